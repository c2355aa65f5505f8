import { createRoute } from "@hono/zod-openapi";
import { requireAuth, sessionOf } from "../../platform/auth";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonBody, jsonResponse, NoContent, SESSION_ONLY } from "../../platform/routes";
import { BackupCodesSchema, TotpCodeInput, TotpDisableInput, TotpSetupSchema } from "./auth.schemas";
import { disableTotp, enableTotp, regenerateBackupCodes, setupTotp } from "./mfa.service";

const tags = ["Two-factor authentication"];

const setupRoute = createRoute({
  method: "post",
  path: `${API}/auth/mfa/totp/setup`,
  tags,
  summary: "Start TOTP setup: a new secret and otpauth:// URL (RFC 6238, SHA-1, 6 digits, 30 s)",
  security: SESSION_ONLY,
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  middleware: [requireAuth({ fresh: true })] as const,
  responses: { 200: jsonResponse(TotpSetupSchema, "Secret to add to an authenticator app"), ...problemResponses(401, 403, 409) },
});

const enableRoute = createRoute({
  method: "post",
  path: `${API}/auth/mfa/totp/enable`,
  tags,
  summary: "Turn TOTP on with a current code; returns 10 single-use backup codes",
  security: SESSION_ONLY,
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  middleware: [requireAuth({ fresh: true })] as const,
  request: jsonBody(TotpCodeInput),
  responses: { 200: jsonResponse(BackupCodesSchema, "Enabled"), ...problemResponses(400, 401, 403, 409, 422, 423, 429) },
});

const disableRoute = createRoute({
  method: "post",
  path: `${API}/auth/mfa/totp/disable`,
  tags,
  summary: "Turn TOTP off with a current code or the password",
  security: SESSION_ONLY,
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  middleware: [requireAuth({ fresh: true })] as const,
  request: jsonBody(TotpDisableInput),
  responses: { 204: NoContent, ...problemResponses(400, 401, 403, 409, 422, 423, 429) },
});

const backupCodesRoute = createRoute({
  method: "post",
  path: `${API}/auth/mfa/backup-codes`,
  tags,
  summary: "Replace the backup codes (old ones stop working)",
  security: SESSION_ONLY,
  // 2FA changes are sensitive: the session is checked in D1, not only at the edge.
  middleware: [requireAuth({ fresh: true })] as const,
  request: jsonBody(TotpCodeInput),
  responses: { 200: jsonResponse(BackupCodesSchema, "New backup codes"), ...problemResponses(400, 401, 403, 409, 422, 423, 429) },
});

export function registerMfa(app: App): void {
  app.openapi(setupRoute, async (c) => {
    sessionOf(c.var.actor);
    return c.json(await setupTotp(c.var.ctx, c.var.actor.userId), 200);
  });
  app.openapi(enableRoute, async (c) => {
    sessionOf(c.var.actor);
    return c.json(await enableTotp(c.var.ctx, c.var.actor.userId, c.req.valid("json").code), 200);
  });
  app.openapi(disableRoute, async (c) => {
    sessionOf(c.var.actor);
    await disableTotp(c.var.ctx, c.var.actor.userId, c.req.valid("json"));
    return c.body(null, 204);
  });
  app.openapi(backupCodesRoute, async (c) => {
    sessionOf(c.var.actor);
    return c.json(await regenerateBackupCodes(c.var.ctx, c.var.actor.userId, c.req.valid("json").code), 200);
  });
}
