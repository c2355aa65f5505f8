
import { ownerOf } from "../../identity/owner";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { STEP_UP_NOTE } from "../../identity/recent-auth";
import { BackupCodesInput, BackupCodesSchema, TotpCodeInput, TotpDisableInput, TotpSetupSchema } from "./auth.schemas";
import { disableTotp, enableTotp, regenerateBackupCodes, setupTotp } from "./mfa.service";

const tags = ["Two-factor authentication"];

const setupRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/mfa/totp/setup`,
  tags,
  summary: "Start TOTP setup: a new secret and otpauth:// URL (RFC 6238, SHA-1, 6 digits, 30 s)",
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  responses: { 200: jsonResponse(TotpSetupSchema, "Secret to add to an authenticator app"), ...problemResponses(401, 403, 409) },
});

const enableRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/mfa/totp/enable`,
  tags,
  summary: "Turn TOTP on with a current code; returns 10 single-use backup codes",
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  request: jsonBody(TotpCodeInput),
  responses: { 200: jsonResponse(BackupCodesSchema, "Enabled"), ...problemResponses(400, 401, 403, 409, 422, 423, 429) },
});

const disableRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/mfa/totp/disable`,
  tags,
  summary: "Turn TOTP off with a current code or the password",
  description: `With neither code nor password: ${STEP_UP_NOTE}`,
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  request: jsonBody(TotpDisableInput),
  responses: { 204: NoContent, ...problemResponses(400, 401, 403, 409, 422, 423, 429) },
});

const backupCodesRoute = securedRoute({ session: true, fresh: true }, {
  method: "post",
  path: `${API}/auth/mfa/backup-codes`,
  tags,
  summary: "Replace the backup codes (old ones stop working)",
  description: `With a current TOTP code, or without one: ${STEP_UP_NOTE}`,
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  request: jsonBody(BackupCodesInput),
  responses: { 200: jsonResponse(BackupCodesSchema, "New backup codes"), ...problemResponses(400, 401, 403, 409, 422, 423, 429) },
});

export function registerMfa(app: App): void {
  app.openapi(setupRoute, async (c) => {
    return c.json(await setupTotp(c.var.ctx, ownerOf(c.var.actor)), 200);
  });
  app.openapi(enableRoute, async (c) => {
    return c.json(await enableTotp(c.var.ctx, ownerOf(c.var.actor), c.req.valid("json").code), 200);
  });
  app.openapi(disableRoute, async (c) => {
    await disableTotp(c.var.ctx, c.var.actor, c.req.valid("json"));
    return c.body(null, 204);
  });
  app.openapi(backupCodesRoute, async (c) => {
    return c.json(await regenerateBackupCodes(c.var.ctx, c.var.actor, c.req.valid("json").code), 200);
  });
}
