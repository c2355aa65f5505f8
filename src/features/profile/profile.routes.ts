import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody } from "../../platform/route-helpers";
import { ConditionalGetHeaders, ConditionalWriteHeaders, ifMatchOf, jsonResponseWithETag, jsonWithETag, jsonWithNewETag, NotModified } from "../../platform/etag";
import { PreferencesSchema, ProfileSchema, UpdatePreferencesInput, UpdateProfileInput } from "./profile.schemas";
import { getPreferences, getProfile, updatePreferences, updateProfile } from "./profile.service";

const tags = ["Me"];

const getProfileRoute = securedRoute({ scope: "read:profile" }, {
  method: "get",
  path: `${API}/me/profile`,
  tags,
  summary: "The business profile, with its completion percentage",
  request: { headers: ConditionalGetHeaders },
  responses: { 200: jsonResponseWithETag(ProfileSchema, "The profile"), ...NotModified },
});

const patchProfileRoute = securedRoute({ scope: "write:profile" }, {
  method: "patch",
  path: `${API}/me/profile`,
  tags,
  summary: "Update profile fields (only those sent; null clears)",
  request: { headers: ConditionalWriteHeaders, ...jsonBody(UpdateProfileInput) },
  responses: { 200: jsonResponseWithETag(ProfileSchema, "The updated profile"), ...problemResponses(400, 412, 413, 422) },
});

const getPreferencesRoute = securedRoute({ scope: "read:profile" }, {
  method: "get",
  path: `${API}/me/preferences`,
  tags,
  summary: "Display, alert and email preferences",
  request: { headers: ConditionalGetHeaders },
  responses: { 200: jsonResponseWithETag(PreferencesSchema, "The preferences"), ...NotModified },
});

const patchPreferencesRoute = securedRoute({ scope: "write:profile" }, {
  method: "patch",
  path: `${API}/me/preferences`,
  tags,
  summary: "Update preferences (only those sent)",
  request: { headers: ConditionalWriteHeaders, ...jsonBody(UpdatePreferencesInput) },
  responses: { 200: jsonResponseWithETag(PreferencesSchema, "The updated preferences"), ...problemResponses(400, 412, 413, 422) },
});

export function registerProfile(app: App): void {
  app.openapi(getProfileRoute, async (c) => jsonWithETag(c, await getProfile(c.var.ctx, c.var.actor)));
  app.openapi(patchProfileRoute, async (c) => jsonWithNewETag(c, await updateProfile(c.var.ctx, c.var.actor, c.req.valid("json"), ifMatchOf(c.req.header("If-Match")))));
  app.openapi(getPreferencesRoute, async (c) => jsonWithETag(c, await getPreferences(c.var.ctx, c.var.actor)));
  app.openapi(patchPreferencesRoute, async (c) =>
    jsonWithNewETag(c, await updatePreferences(c.var.ctx, c.var.actor, c.req.valid("json"), ifMatchOf(c.req.header("If-Match")))),
  );
}
