import type { OidcAssertion, OidcSource } from "../../db/tables";
import { ownerOf, systemOwner, type Owner } from "../../identity/owner";
import type { UserActor } from "../../identity/actor";
import { requireRecentAuth } from "../../identity/recent-auth";
import { isPlainText } from "../../platform/plain-text";
import { sessionsRepo } from "../sessions/sessions.repo";
import { NO_PASSWORD } from "../../identity/sign-in-methods";
import type { Config } from "../../platform/config";
import type { RequestContext } from "../../platform/context";
import { randomToken } from "../../platform/crypto";
import { isUniqueViolation, runBatch } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { newId } from "../../platform/ids";
import { log } from "../../platform/log";
import { rateLimit, rateLimitIp } from "../../platform/rate-limit";
import { HOUR, MINUTE, SECOND } from "../../platform/time";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { outboxInsert, outboxInsertIf } from "../../email/outbox.repo";
import { enqueueEmails } from "../../email/queue";
import { emails } from "../../email/templates";
import { accessChanged } from "../../identity/grants";
import { signInVerified } from "../auth/login.service";
import { insertMemberIfSeat, isMemberOf, joinedBy, orgAdminsOf, seatsOf } from "../orgs/invitations.repo";
import { emailDomain } from "../sso/domains";
import { emailAtVerifiedDomainOf, recordSsoSignIn, ssoConnectionForEmailDomain, ssoConnectionOfOrg } from "../sso/sso.service";
import { findUserByEmail, findUserById, insertUserStatements } from "../users/users.repo";
import { identitiesRepo, identityLinkedTo, removableIdentity } from "./identities.repo";
import { authorizationRequest, completeAuthorization, OidcFlowError, providerMfaSatisfies, resolveProvider, type ResolvedProvider, type VerifiedIdentity } from "./oidc-client";
import { oidcFlowsRepo } from "./oidc-flows.repo";

/** A pending authorization request lives 10 minutes; a login code 60 seconds. */
export const STATE_TTL_MS = 10 * MINUTE;
export const LOGIN_CODE_TTL_MS = 60 * SECOND;

/** The origins a flow may return to: OIDC_ALLOWED_RETURN_ORIGINS, else PUBLIC_BASE_URL's (the console's). */
export const allowedReturnOrigins = (config: Config): string[] =>
  config.OIDC_ALLOWED_RETURN_ORIGINS.length ? config.OIDC_ALLOWED_RETURN_ORIGINS.map((o) => new URL(o).origin) : [new URL(config.PUBLIC_BASE_URL).origin];

/** Where a callback without a usable state ends: the console's sign-in screen. */
const fallbackReturn = (config: Config) => new URL("/console/signin", config.PUBLIC_BASE_URL).href;

/** A return_to on an allowed origin (absolute http(s) URL, no fragment kept), or 422. */
export function checkReturnTo(config: Config, returnTo: string | undefined): string {
  const fail = () => new AppError("validation_failed", "return_to must be a URL on an allowed origin (OIDC_ALLOWED_RETURN_ORIGINS)", { errors: [{ path: "return_to", message: "Not an allowed origin" }] });
  if (!returnTo) return fallbackReturn(config);
  let url: URL;
  try {
    url = new URL(returnTo);
  } catch {
    throw fail();
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password || !allowedReturnOrigins(config).includes(url.origin)) throw fail();
  url.hash = "";
  return url.href;
}

/** return_to with one more query parameter (`login_code`, `linked` or `error`). */
function withParam(returnTo: string, name: string, value: string): string {
  const url = new URL(returnTo);
  url.searchParams.delete("login_code");
  url.searchParams.delete("error");
  url.searchParams.delete("linked");
  url.searchParams.set(name, value);
  return url.href;
}

const unavailable = (err: unknown) => {
  log.warn("OpenID provider unavailable", {}, err);
  return new AppError("service_unavailable", "The identity provider cannot be reached; try again later");
};

/**
 * Starts an authorization request of `source` (GET /auth/oidc/{provider}/start, or a link from My
 * account): the pending request is stored server-side under the state's hash, bound to this
 * browser by a random cookie value (`browser`, returned for the route to set).
 */
async function startFlow(ctx: RequestContext, source: OidcSource, returnTo: string | undefined, linkUserId: string | null, extra: Record<string, string> = {}) {
  const provider = await resolveProvider(ctx, source);
  if (!provider) throw new AppError("not_found", "No such identity provider");
  const target = checkReturnTo(ctx.config, returnTo);
  const request = await authorizationRequest(ctx, provider, extra).catch((err) => {
    throw unavailable(err);
  });
  const browser = randomToken(32);
  await oidcFlowsRepo(ctx.db)
    .insertState(
      { state: request.state, browser, source, nonce: request.nonce, codeVerifier: request.codeVerifier, returnTo: target, linkUserId, expiresAt: new Date(ctx.now.getTime() + STATE_TTL_MS) },
      ctx.now,
    )
    .run();
  return { url: request.url, browser };
}

/** GET /auth/oidc/{provider}/start. */
export async function startSocialSignIn(ctx: RequestContext, providerId: string, returnTo: string | undefined) {
  await rateLimitIp(ctx, "oidc", ctx.config.RATE_OIDC_PER_IP);
  return startFlow(ctx, { kind: "social", provider: providerId }, returnTo, null);
}

/**
 * POST /auth/sso/start {email}: the SSO flow of the organization that holds the email's domain
 * verified with SSO enabled (login_hint = the email). Rate-limited per IP before any lookup. No
 * such organization (an unknown domain, an unverified one, one without SSO or with SSO disabled)
 * → the same 404 body for all: the answer tells nothing about which domains exist.
 */
export async function startSsoSignIn(ctx: RequestContext, email: string, returnTo: string | undefined) {
  await rateLimitIp(ctx, "oidc", ctx.config.RATE_OIDC_PER_IP);
  const domain = emailDomain(email);
  const connection = domain ? await ssoConnectionForEmailDomain(ctx, domain) : null;
  if (!connection) throw new AppError("not_found", "No single sign-on is set up for this address");
  return startFlow(ctx, { kind: "sso", org_id: connection.orgId }, returnTo, null, { login_hint: email });
}

/**
 * GET or POST /me/identities/{provider}/link: the same flow, ending in a link to the signed-in
 * user. A link adds a way into the account, so it needs a recent authentication (like adding a
 * passkey), is limited per IP like any start, and completes only while the session that started
 * it is still live (a password reset or sign-out everywhere in between ends it).
 */
export async function startLink(ctx: RequestContext, actor: UserActor, providerId: string, returnTo: string | undefined) {
  await rateLimitIp(ctx, "oidc", ctx.config.RATE_OIDC_PER_IP);
  requireRecentAuth(ctx, actor);
  return startFlow(ctx, { kind: "social", provider: providerId, session_id: actor.sessionId }, returnTo, ownerOf(actor));
}

/**
 * GET /auth/oidc/callback: always a redirect. The state is spent (once, within 10 minutes, from
 * the browser that started it), the response and ID token verified; then either a 60-second
 * login code (stored hashed) for POST /auth/oidc/exchange, or, for a link flow, the link itself.
 * Every refusal ends at return_to (or the console) with `error=`, and is audited.
 */
export async function handleCallback(ctx: RequestContext, params: URLSearchParams, browser: string | undefined): Promise<{ target: string; loginCodeIssued: boolean }> {
  const target = await callbackTarget(ctx, params, browser);
  return { target, loginCodeIssued: new URL(target).searchParams.has("login_code") };
}

async function callbackTarget(ctx: RequestContext, params: URLSearchParams, browser: string | undefined): Promise<string> {
  const { db, now, config } = ctx;
  try {
    await rateLimitIp(ctx, "oidc", config.RATE_OIDC_PER_IP);
  } catch (err) {
    if (err instanceof AppError && err.code === "rate_limited") return withParam(fallbackReturn(config), "error", "rate_limited");
    throw err;
  }
  const state = params.get("state");
  const row = state && browser ? await oidcFlowsRepo(db).consumeState(state, browser, now) : undefined;
  if (!row) {
    await auditInsert(db, ctx, { userId: null, action: "auth.oidc_failed", details: { reason: "invalid_state" } }).run();
    return withParam(fallbackReturn(config), "error", "invalid_state");
  }
  const fail = async (code: string, detail: string, userId: string | null = row.linkUserId) => {
    await auditInsert(db, ctx, { userId, action: "auth.oidc_failed", details: { reason: code, detail: detail.slice(0, 300), source: row.source } }).run();
    return withParam(row.returnTo, "error", code);
  };
  const provider = await resolveProvider(ctx, row.source);
  if (!provider) return fail("provider_unavailable", "the provider is no longer configured");
  let identity: VerifiedIdentity;
  try {
    identity = await completeAuthorization(ctx, provider, params, { state: state!, nonce: row.nonce, codeVerifier: row.codeVerifier });
  } catch (err) {
    if (err instanceof OidcFlowError) return fail(err.code, err.message);
    log.warn("OpenID callback failed", { request_id: ctx.requestId }, err);
    return fail("provider_unavailable", err instanceof Error ? err.message : "provider error");
  }
  if (row.linkUserId) {
    const sessionId = row.source.kind === "social" ? row.source.session_id : undefined;
    const outcome = sessionId ? await linkIdentity(ctx, row.linkUserId, sessionId, provider, identity) : "session_ended";
    if (outcome === "session_ended") return fail("session_ended", "the session that started the link has ended");
    return outcome === "linked" ? withParam(row.returnTo, "linked", provider.provider_id) : fail(outcome, outcome === "identity_in_use" ? "the identity is linked to another account" : "the account is not active");
  }
  const code = randomToken(32);
  const assertion: OidcAssertion = {
    source: row.source,
    issuer: identity.issuer,
    subject: identity.subject,
    email: identity.email,
    email_verified: identity.email_verified,
    name: identity.name,
    mfa_trusted: providerMfaSatisfies(provider, identity.amr),
  };
  await oidcFlowsRepo(db).insertLoginCode(code, row.browserHash, assertion, new Date(now.getTime() + LOGIN_CODE_TTL_MS), now).run();
  return withParam(row.returnTo, "login_code", code);
}

/**
 * Links `identity` to the signed-in user of a link flow; an identity already linked to someone
 * else is refused (it signs in to that user and no other). A new link is audited and emailed.
 */
async function linkIdentity(
  ctx: RequestContext,
  userId: string,
  sessionId: string,
  provider: ResolvedProvider,
  identity: VerifiedIdentity,
): Promise<"linked" | "identity_in_use" | "account_inactive" | "session_ended"> {
  const { db, now } = ctx;
  const user = await findUserById(db, userId, now);
  if (!user || user.status !== "active") return "account_inactive";
  const id = newId("idn", now.getTime());
  const mine = identityLinkedTo(id, userId);
  const mail = await outboxInsertIf(
    ctx,
    { to: user.email, userId, email: emails.identityLinked({ name: user.fullName, provider: provider.name, email: identity.email, when: now.toISOString() }) },
    mine,
  );
  const repo = identitiesRepo(db);
  const [inserted] = await runBatch(ctx, [
    repo.insertIfNewWhile(id, { userId, providerId: provider.provider_id, issuer: identity.issuer, subject: identity.subject, email: identity.email }, now, sessionsRepo(db, systemOwner(userId, "token-link")).isLive(sessionId, now)),
    auditInsertIf(db, ctx, { userId, action: "auth.identity_linked", details: { identity_id: id, provider: provider.provider_id, issuer: identity.issuer, via: "my_account" } }, mine),
    mail.statement,
  ]);
  if ((inserted as D1Result).meta.changes > 0) {
    ctx.waitUntil(enqueueEmails(ctx.env, [mail.id]));
    return "linked";
  }
  const existing = await repo.byIssuerSubject(identity.issuer, identity.subject);
  if (existing) return existing.userId === userId ? "linked" : "identity_in_use";
  return "session_ended";
}

/**
 * The full name of an account an identity provider creates: its `name` claim when that is plain
 * text (the name goes into keel's emails, so no links), else a neutral placeholder the user can
 * change. Not the email's local part, which may itself read like a link.
 */
const plainFullName = (name: string | null | undefined) => {
  const trimmed = (name ?? "").trim().slice(0, 200);
  return trimmed && isPlainText(trimmed) ? trimmed : "New user";
};

const usedCode = () =>
  new AppError("validation_failed", "The login code is invalid, used or expired; sign in again", { status: 400, errors: [{ path: "login_code", message: "Invalid, used or expired" }] });

/**
 * POST /auth/oidc/exchange: spends the login code, then signs in the user the identity is linked
 * to; an identity seen for the first time creates a passwordless account (verified iff the
 * provider says `email_verified`; an unverified address → 403 `email_not_verified`, nothing
 * written), unless its email belongs to an account: 409 `account_exists`
 * (never linked automatically: sign in as usual, then link from My account).
 */
export async function exchangeLoginCode(ctx: RequestContext, input: { login_code: string; device_name?: string; device_token?: string }, browser: string | undefined) {
  const { db, now } = ctx;
  await rateLimitIp(ctx, "oidc", ctx.config.RATE_OIDC_PER_IP);
  // Only the browser the sign-in came back to (its cookie) may spend the code: someone else's
  // code, slipped into a victim's page, signs nobody in (login CSRF).
  const assertion = browser ? await oidcFlowsRepo(db).consumeLoginCode(input.login_code, browser, now) : undefined;
  if (!assertion) throw usedCode();
  if (assertion.source.kind === "sso") return exchangeSso(ctx, assertion, assertion.source.org_id, input);
  const repo = identitiesRepo(db);
  const linked = await repo.byIssuerSubject(assertion.issuer, assertion.subject);
  if (linked) {
    const user = await findUserById(db, linked.userId, now);
    if (!user) throw usedCode();
    return signInVerified(ctx, user, input, {
      method: "oidc",
      mfaSatisfied: assertion.mfa_trusted,
      extra: [repo.touch(linked.id, now), auditInsert(db, ctx, { userId: user.id, action: "auth.oidc_sign_in", details: { identity_id: linked.id, issuer: assertion.issuer, source: assertion.source } })],
    });
  }
  const providerId = assertion.source.provider;
  if (!assertion.email) {
    throw new AppError("validation_failed", "The identity provider did not share an email address", { status: 400, errors: [{ path: "login_code", message: "No email from the provider" }] });
  }
  // An address the provider has not verified claims nothing here: creating an account (or a link)
  // from it would let whoever controls that provider account in once the real owner of the
  // mailbox takes the address over; and answering by whether it is taken would tell strangers
  // which addresses have accounts. So: the same refusal, before any lookup, nothing written.
  if (!assertion.email_verified) {
    throw new AppError("email_not_verified", "The identity provider has not verified this email address: verify it there, or register here with the address");
  }
  const accountExists = () => new AppError("account_exists", "An account with this email exists: sign in to it, then link this provider under My account");
  if (await findUserByEmail(db, assertion.email, now)) throw accountExists();
  const userId = newId("usr", now.getTime());
  const identityId = newId("idn", now.getTime());
  const fullName = plainFullName(assertion.name);
  try {
    await runBatch(ctx, [
      ...insertUserStatements(db, { id: userId, email: assertion.email, passwordHash: NO_PASSWORD, fullName, phone: null, emailVerified: assertion.email_verified }, now),
      repo.insert(identityId, { userId, providerId, issuer: assertion.issuer, subject: assertion.subject, email: assertion.email }, now),
      auditInsert(db, ctx, { userId, action: "user.registered", details: { method: "oidc", provider: providerId } }),
      auditInsert(db, ctx, { userId, action: "auth.identity_linked", details: { identity_id: identityId, provider: providerId, issuer: assertion.issuer, via: "sign_up" } }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err, "users.email")) throw accountExists();
    if (isUniqueViolation(err, "user_identities.issuer")) throw new AppError("conflict", "This identity was just linked by a concurrent sign-in; sign in again");
    throw err;
  }
  const user = await findUserById(db, userId, now);
  if (!user) throw new AppError("internal_error");
  return signInVerified(ctx, user, input, {
      method: "oidc",
    mfaSatisfied: assertion.mfa_trusted,
    extra: [auditInsert(db, ctx, { userId, action: "auth.oidc_sign_in", details: { identity_id: identityId, issuer: assertion.issuer, source: assertion.source } })],
  });
}

/** One notice per organization per hour at most, whatever the number of refused sign-ins. */
const SEAT_NOTICE_WINDOW_SECONDS = HOUR / 1000;

/**
 * Tells the organization's owners and admins (one email each, through the outbox) that an SSO
 * sign-in found no seat. Throttled to once an hour per organization by the exact rate limiter
 * (key `sso-seat-notice:org:<id>`, 1 per hour), so a flood of refused sign-ins sends one round of
 * mail, not one per attempt; every attempt still shows in GET /orgs/{id}/sso `recent`.
 */
async function noticeSeatLimit(ctx: RequestContext, orgId: string, email: string, limit: number): Promise<void> {
  try {
    await rateLimit(ctx.env, `sso-seat-notice:org:${orgId}`, { limit: 1, windowSeconds: SEAT_NOTICE_WINDOW_SECONDS });
  } catch (err) {
    if (err instanceof AppError && err.code === "rate_limited") return;
    throw err;
  }
  const admins = await orgAdminsOf(ctx.db, orgId);
  if (admins.length === 0) return;
  const url = new URL(`/console/org-sso/${orgId}`, ctx.config.PUBLIC_BASE_URL).href;
  const mails = await Promise.all(
    admins.map((a) => outboxInsert(ctx, { to: a.email, userId: a.userId, email: emails.ssoSeatLimit({ name: a.fullName, orgName: a.orgName, email, limit, url }) })),
  );
  await runBatch(ctx, mails.map((m) => m.statement));
  ctx.waitUntil(enqueueEmails(ctx.env, mails.map((m) => m.id)));
}

/**
 * The exchange of an organization's SSO sign-in (source `{kind: "sso", org_id}`):
 * - the asserted email must be at one of the organization's verified domains (its provider is
 *   trusted for those addresses only; otherwise 403 `forbidden`);
 * - the identity (issuer + subject) signs in to its linked user; else an account with that email
 *   is linked automatically when the provider asserts `email_verified` (409 `account_exists`
 *   otherwise); else a passwordless, verified account is created (an unverified address → 403);
 * - a user who is not a member joins with the connection's default role, within the seat limit
 *   (one guarded INSERT; 409 `limit_reached` otherwise and the admins are told); only with
 *   `email_verified`, so an unverified address never gains the organization's data;
 * - exempt from enforce_sso (this IS the organization's SSO); TOTP applies as for any sign-in.
 * Every outcome is recorded for the organization's admins (GET /orgs/{id}/sso `recent`) and audited.
 */
async function exchangeSso(ctx: RequestContext, assertion: OidcAssertion, orgId: string, input: { device_name?: string; device_token?: string }) {
  const { db, now } = ctx;
  const who = assertion.email ?? `${assertion.subject}@${new URL(assertion.issuer).host}`;
  const fail = async (err: AppError, userId: string | null = null): Promise<never> => {
    await recordSsoSignIn(ctx, orgId, { email: who, outcome: err.code === "limit_reached" ? "limit_reached" : `error:${err.code}` });
    await auditInsert(db, ctx, { userId, action: "auth.sso_failed", details: { organization_id: orgId, reason: err.code, issuer: assertion.issuer } }).run();
    throw err;
  };
  if (!assertion.email) {
    return fail(new AppError("validation_failed", "The identity provider did not share an email address", { status: 400, errors: [{ path: "login_code", message: "No email from the provider" }] }));
  }
  const email = assertion.email;
  if (!(await emailAtVerifiedDomainOf(ctx, orgId, email))) {
    return fail(new AppError("forbidden", "The identity provider signed in an address outside the organization's verified domains"));
  }
  const providerId = `sso:${orgId}`;
  const repo = identitiesRepo(db);
  const linked = await repo.byIssuerSubject(assertion.issuer, assertion.subject);
  let userId: string;
  const extra = [];
  if (linked) {
    userId = linked.userId;
    extra.push(repo.touch(linked.id, now));
  } else {
    const existing = await findUserByEmail(db, email, now);
    if (existing) {
      // The organization's provider is trusted for its own verified domain (checked above), and
      // only when it says it verified the address.
      if (!assertion.email_verified) {
        return fail(new AppError("account_exists", "An account with this email exists: sign in to it, then link this provider under My account"), existing.id);
      }
      const id = newId("idn", now.getTime());
      const mine = identityLinkedTo(id, existing.id);
      const mail = await outboxInsertIf(ctx, { to: existing.email, userId: existing.id, email: emails.identityLinked({ name: existing.fullName, provider: "company single sign-on", email, when: now.toISOString() }) }, mine);
      const [inserted] = await runBatch(ctx, [
        repo.insertIfNew(id, { userId: existing.id, providerId, issuer: assertion.issuer, subject: assertion.subject, email }, now),
        auditInsertIf(db, ctx, { userId: existing.id, action: "auth.identity_linked", details: { identity_id: id, provider: providerId, issuer: assertion.issuer, via: "sso_verified_domain" } }, mine),
        mail.statement,
      ]);
      if ((inserted as D1Result).meta.changes > 0) ctx.waitUntil(enqueueEmails(ctx.env, [mail.id]));
      else if ((await repo.byIssuerSubject(assertion.issuer, assertion.subject))?.userId !== existing.id) {
        return fail(new AppError("conflict", "This identity was just linked by a concurrent sign-in; sign in again"), existing.id);
      }
      userId = existing.id;
    } else {
      // As for social sign-in: an address the provider has not verified creates nothing.
      if (!assertion.email_verified) {
        return fail(new AppError("email_not_verified", "The identity provider has not verified this email address: verify it there, then sign in again"));
      }
      // A new account would only be refused a seat after it exists: look first (the guarded
      // INSERT below still decides under concurrency).
      {
        const seats = await seatsOf(db, orgId, now, ctx.config.PLAN_LIMITS.free.max_users);
        if (seats && seats.members >= seats.maxUsers) {
          await noticeSeatLimit(ctx, orgId, email, seats.maxUsers);
          return fail(new AppError("limit_reached", `The organization is full: the ${seats.plan} plan allows ${seats.maxUsers} users`, { fields: { limit: seats.maxUsers, members: seats.members } }));
        }
      }
      userId = newId("usr", now.getTime());
      const identityId = newId("idn", now.getTime());
      const fullName = plainFullName(assertion.name);
      try {
        await runBatch(ctx, [
          ...insertUserStatements(db, { id: userId, email, passwordHash: NO_PASSWORD, fullName, phone: null, emailVerified: assertion.email_verified }, now),
          repo.insert(identityId, { userId, providerId, issuer: assertion.issuer, subject: assertion.subject, email }, now),
          auditInsert(db, ctx, { userId, action: "user.registered", details: { method: "sso", organization_id: orgId } }),
          auditInsert(db, ctx, { userId, action: "auth.identity_linked", details: { identity_id: identityId, provider: providerId, issuer: assertion.issuer, via: "sign_up" } }),
        ]);
      } catch (err) {
        if (isUniqueViolation(err, "users.email")) return fail(new AppError("account_exists", "An account with this email was just created; sign in again"));
        if (isUniqueViolation(err, "user_identities.issuer")) return fail(new AppError("conflict", "This identity was just linked by a concurrent sign-in; sign in again"));
        throw err;
      }
    }
  }
  const user = await findUserById(db, userId, now);
  if (!user) throw usedCode();
  let outcome = "signed_in";
  if (user.status === "active" && assertion.email_verified && !(await isMemberOf(db, orgId, user.id))) {
    const connection = await ssoConnectionOfOrg(ctx, orgId);
    // SSO switched off since the callback: nobody joins through it any more.
    if (!connection) return fail(new AppError("not_found", "Single sign-on is no longer enabled for this organization"), user.id);
    const role = connection.defaultRole;
    const memberId = newId("mem", now.getTime());
    const [joined] = await runBatch(ctx, [
      insertMemberIfSeat(db, { memberId, orgId, userId: user.id, role, now, freeMaxUsers: ctx.config.PLAN_LIMITS.free.max_users }),
      auditInsertIf(db, ctx, { userId: user.id, action: "org.member_joined_sso", details: { organization_id: orgId, role } }, joinedBy(memberId)),
    ]);
    if ((joined as D1Result).meta.changes > 0) {
      accessChanged(user.id);
      outcome = "joined";
    } else if (!(await isMemberOf(db, orgId, user.id))) {
      const seats = await seatsOf(db, orgId, now, ctx.config.PLAN_LIMITS.free.max_users);
      if (!seats) return fail(new AppError("not_found", "The organization was deleted meanwhile"), user.id);
      await noticeSeatLimit(ctx, orgId, email, seats.maxUsers);
      return fail(new AppError("limit_reached", `The organization is full: the ${seats.plan} plan allows ${seats.maxUsers} users`, { fields: { limit: seats.maxUsers, members: seats.members } }), user.id);
    }
  }
  try {
    const result = await signInVerified(ctx, user, input, {
      method: "oidc",
      mfaSatisfied: assertion.mfa_trusted,
      ssoExempt: true,
      extra: [...extra, auditInsert(db, ctx, { userId: user.id, action: "auth.oidc_sign_in", details: { issuer: assertion.issuer, source: assertion.source } })],
    });
    await recordSsoSignIn(ctx, orgId, { email, outcome: "mfa_required" in result ? `${outcome}:mfa_required` : outcome });
    return result;
  } catch (err) {
    if (err instanceof AppError) return fail(err, user.id);
    throw err;
  }
}

/** GET /me/identities. */
export async function listIdentities(ctx: RequestContext, userId: Owner) {
  const rows = await identitiesRepo(ctx.db).listOf(userId);
  return rows.map((r) => ({
    id: r.id,
    provider: r.providerId,
    issuer: r.issuer,
    subject: r.subject,
    email: r.email,
    created_at: r.createdAt.toISOString(),
    last_used_at: r.lastUsedAt?.toISOString() ?? null,
  }));
}

/** DELETE /me/identities/{id}: refused (409) when it is the last way to sign in; foreign or missing → 404. */
export async function unlinkIdentity(ctx: RequestContext, userId: Owner, id: string): Promise<void> {
  const repo = identitiesRepo(ctx.db);
  // The audit row first, under the very condition of the delete that follows it in the batch.
  const [, removed] = await runBatch(ctx, [
    auditInsertIf(ctx.db, ctx, { userId, action: "auth.identity_unlinked", details: { identity_id: id } }, removableIdentity(userId, id)),
    repo.removeIfNotLast(userId, id),
  ]);
  if (removed.length === 0) {
    if (await repo.exists(userId, id)) throw new AppError("conflict", "This is the last way to sign in to the account: set a password or link another provider first");
    throw new AppError("not_found", "Identity not found");
  }
}

/** GET /auth/providers: the configured social providers, never their secrets. */
export const listProviders = (config: Config) => config.OIDC_PROVIDERS.map((p) => ({ id: p.id, name: p.name, kind: "social" as const }));

/** Cron: removes expired authorization requests and login codes; how many. */
export async function purgeExpiredOidcFlows(ctx: Pick<RequestContext, "db" | "now">): Promise<number> {
  const results = await runBatch(ctx, oidcFlowsRepo(ctx.db).purgeExpired(ctx.now));
  return results.reduce((n, r) => n + ((r as D1Result).meta?.changes ?? 0), 0);
}
