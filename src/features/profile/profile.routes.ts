import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse } from "../../platform/route-helpers";
import { PreferencesSchema, ProfileSchema, UpdatePreferencesInput, UpdateProfileInput } from "./profile.schemas";
import { getPreferences, getProfile, updatePreferences, updateProfile } from "./profile.service";

const tags = ["Me"];

const getProfileRoute = securedRoute({ scope: "read:profile" }, {
  method: "get",
  path: `${API}/me/profile`,
  tags,
  summary: "The business profile, with its completion percentage",
  responses: { 200: jsonResponse(ProfileSchema, "The profile") },
});

const patchProfileRoute = securedRoute({ scope: "write:profile" }, {
  method: "patch",
  path: `${API}/me/profile`,
  tags,
  summary: "Update profile fields (only those sent; null clears)",
  request: jsonBody(UpdateProfileInput),
  responses: { 200: jsonResponse(ProfileSchema, "The updated profile"), ...problemResponses(400, 413, 422) },
});

const getPreferencesRoute = securedRoute({ scope: "read:profile" }, {
  method: "get",
  path: `${API}/me/preferences`,
  tags,
  summary: "Display, alert and email preferences",
  responses: { 200: jsonResponse(PreferencesSchema, "The preferences") },
});

const patchPreferencesRoute = securedRoute({ scope: "write:profile" }, {
  method: "patch",
  path: `${API}/me/preferences`,
  tags,
  summary: "Update preferences (only those sent)",
  request: jsonBody(UpdatePreferencesInput),
  responses: { 200: jsonResponse(PreferencesSchema, "The updated preferences"), ...problemResponses(400, 413, 422) },
});

export function registerProfile(app: App): void {
  app.openapi(getProfileRoute, async (c) => c.json(await getProfile(c.var.ctx, c.var.actor), 200));
  app.openapi(patchProfileRoute, async (c) => c.json(await updateProfile(c.var.ctx, c.var.actor, c.req.valid("json")), 200));
  app.openapi(getPreferencesRoute, async (c) => c.json(await getPreferences(c.var.ctx, c.var.actor), 200));
  app.openapi(patchPreferencesRoute, async (c) => c.json(await updatePreferences(c.var.ctx, c.var.actor, c.req.valid("json")), 200));
}
