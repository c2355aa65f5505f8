import { z } from "@hono/zod-openapi";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, NoContent } from "../../platform/route-helpers";
import { securedRoute } from "../../identity/secured-route";
import { recordConsents } from "./consents.service";

const Version = z.string().trim().min(1).max(64);

export const ConsentsInput = z
  .strictObject({
    terms_version: Version.optional().openapi({ description: "Must equal the configured TERMS_VERSION (required when one is configured)" }),
    privacy_version: Version.optional().openapi({ description: "Must equal the configured PRIVACY_VERSION (required when one is configured)" }),
  })
  .openapi("ConsentsInput");

// Allowed with outdated consent (that is what it is for), and with an expired password.
const consentsRoute = securedRoute(
  { session: true, allowOutdatedTerms: true, allowExpiredPassword: true },
  {
    method: "post",
    path: `${API}/me/consents`,
    tags: ["Me"],
    summary: "Accept the current terms of service and privacy policy",
    description:
      "When TERMS_VERSION / PRIVACY_VERSION are configured and differ from the versions the user last accepted, login answers tokens with `terms_update_required: true` and every authenticated route except this one and logout answers 403 `terms_update_required` (the problem names the current `terms_version` and `privacy_version`). Each version sent must be the configured one (422 otherwise). Recorded with time and IP, audited as `user.consent_recorded`, included in the GDPR export.",
    request: jsonBody(ConsentsInput),
    responses: { 204: NoContent, ...problemResponses(400, 422) },
  },
);

export function registerConsents(app: App): void {
  app.openapi(consentsRoute, async (c) => {
    await recordConsents(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.body(null, 204);
  });
}
