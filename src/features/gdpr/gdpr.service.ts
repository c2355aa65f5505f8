import { webhookEvent } from "../webhooks/emit";
import { ownerOf, systemOwner } from "../../identity/owner";
import { publishRevokedKeys } from "../../identity/api-key-credentials";
import { runBatch } from "../../platform/db";
import { systemActor, type UserActor } from "../../identity/actor";
import type { RequestContext, ServiceContext } from "../../platform/context";
import type { Db } from "../../platform/db";
import { AppError } from "../../platform/errors";
import { rateLimit } from "../../platform/rate-limit";
import { publishUserBlocked } from "../../platform/revocation";
import { auditInsert, auditInsertIf } from "../../audit/audit.repo";
import { verifyPassword } from "../auth/password-hash";
import { requireRecentAuth } from "../../identity/recent-auth";
import { endSessions } from "../sessions/sessions.service";
import { userViewChanged } from "../users/user-view-cache";
import { findUserById } from "../users/users.repo";
import { EXPORTERS } from "./exporters.repo";
import { accountRepo, anonymiseAuditRow, auditRowsToAnonymise, dueAccounts, eraseAccountStatements, orgsBlockingDeletion, type DueAccount } from "./gdpr.repo";
import { scrubDetails } from "./gdpr.rules";
import { DAY } from "../../platform/time";

/** Password attempts on DELETE /me, per user, before any hashing. */
const DELETE_RATE = { limit: 10, windowSeconds: 3600 };
const EXPORT_RATE = { limit: 10, windowSeconds: 3600 };
const EXPORT_PAGE = 500;

// ─── export ────────────────────────────────────────────────────────────────────────────────

/**
 * GET /me/export: one JSON document of every row held about the user, written section by
 * section as the client reads it (a ReadableStream that queries one page of at most 500 rows
 * per pull), so a large history never sits in memory. Sections come from the exporter registry
 * (exporters.repo.ts). Each page is read at its own moment: the document is not a snapshot of
 * one instant, which an account being read by its own holder does not need.
 */
export async function exportAccount(ctx: RequestContext, actor: UserActor): Promise<ReadableStream<Uint8Array>> {
  const { db, now } = ctx;
  await rateLimit(ctx.env, `export:user:${actor.userId}`, EXPORT_RATE);
  await runBatch(ctx, [auditInsert(db, ctx, { userId: actor.userId, action: "gdpr.exported" })]);
  const encoder = new TextEncoder();
  const head = JSON.stringify({ format: "keel-export/1", exported_at: now.toISOString(), user_id: actor.userId }).slice(0, -1);
  let index = -1; // -1: the head is not written yet
  let after = 0;
  let firstRow = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index === -1) {
        controller.enqueue(encoder.encode(`${head},"sections":{`));
        index = 0;
        return;
      }
      const exporter = EXPORTERS[index];
      if (!exporter) {
        controller.enqueue(encoder.encode("}}\n"));
        controller.close();
        return;
      }
      let chunk = "";
      if (after === 0 && firstRow) chunk += `${index > 0 ? "," : ""}${JSON.stringify(exporter.section)}:[`;
      const page = await exporter.page(db, ownerOf(actor), after, EXPORT_PAGE);
      for (const row of page.rows) {
        chunk += `${firstRow ? "" : ","}${JSON.stringify(row)}`;
        firstRow = false;
      }
      if (page.rows.length < EXPORT_PAGE || page.last === null) {
        chunk += "]";
        index += 1;
        after = 0;
        firstRow = true;
      } else {
        after = page.last;
      }
      controller.enqueue(encoder.encode(chunk));
    },
  });
}

// ─── erasure request ───────────────────────────────────────────────────────────────────────

/**
 * DELETE /me: with the password, the account is deactivated at once (guarded statement +
 * audit in one batch), then every session, access token and API key stops working: sessions
 * and keys are revoked in D1, the user is blocked at the edge (every token and key of an
 * inactive user is refused), key caches are evicted. Personal data is erased by the cron after
 * ACCOUNT_PURGE_DAYS.
 */
export async function requestAccountDeletion(ctx: RequestContext, actor: UserActor, password: string | undefined) {
  const { db, now, env, config } = ctx;
  // Without a password in the body, a recent sign-in or step-up is the proof.
  if (password === undefined) requireRecentAuth(ctx, actor);
  await rateLimit(env, `account-delete:user:${actor.userId}`, DELETE_RATE);
  const user = await findUserById(db, actor.userId, now);
  if (!user) throw new AppError("unauthenticated", "Session has ended");
  if (password !== undefined && !(await verifyPassword(password, user.passwordHash)).ok) throw new AppError("invalid_credentials", "The password is not correct");

  const repo = accountRepo(db, ownerOf(actor));
  const requested = repo.deletionRequestedAt(now);
  const [deactivated, keys] = await runBatch(ctx, [
    repo.requestDeletion(now),
    repo.revokeAllApiKeysIf(now, requested),
    auditInsertIf(db, ctx, { userId: actor.userId, action: "gdpr.deletion_requested", details: { purge_after_days: config.ACCOUNT_PURGE_DAYS } }, requested),
    // The platform's user.deleted carries the id only: the personal data is about to be erased.
    ...(await webhookEvent(ctx, { type: "user.deleted", scope: "platform", data: { id: actor.userId } }, requested)),
  ]);
  if (deactivated.length === 0) {
    const blocking = await orgsBlockingDeletion(db, ownerOf(actor));
    if (blocking.length > 0) {
      throw new AppError("conflict", "You are the last owner of an organization with other members: transfer ownership first", {
        fields: { organization_ids: blocking },
      });
    }
    throw new AppError("unauthenticated", "Session has ended");
  }
  // The account is inactive in D1 and its keys revoked; the edge learns it at once, so no
  // access token or key works from here on, then the sessions are ended.
  await Promise.all([
    publishUserBlocked(env, actor.userId, "inactive"),
    publishRevokedKeys(ctx, (keys as { keyHash: string }[]).map((k) => k.keyHash)),
  ]);
  userViewChanged(actor.userId);
  await endSessions(ctx, ownerOf(actor), {}, "account_deleted", null);
  return {
    status: "inactive" as const,
    deletion_requested_at: now.toISOString(),
    purge_after: new Date(now.getTime() + config.ACCOUNT_PURGE_DAYS * DAY).toISOString(),
  };
}

// ─── purge (cron) ──────────────────────────────────────────────────────────────────────────

/** Accounts looked at per tick, and audit rows anonymised per tick (50 per batch). */
const PURGE_ACCOUNTS_PER_TICK = 10;
const AUDIT_ROWS_PER_TICK = 1000;
const AUDIT_ROWS_PER_BATCH = 50;
/** Invitations live 7 days: an address can be quoted in the audit log that long before sign-up. */
const INVITATION_WINDOW_MS = 8 * DAY;

/** The erasure is the platform's own act: its audit row has no actor and names the reason (`cron`) as its request. */
const SYSTEM = { ip: "", userAgent: "", requestId: systemActor("cron").reason };

/**
 * Erases the personal data of accounts whose deletion was requested more than
 * ACCOUNT_PURGE_DAYS ago. Idempotent and bounded per tick: audit rows are anonymised in batches
 * (each row once: see `auditRowsToAnonymise`), then one guarded batch deletes the rest; an
 * account not finished this tick is resumed on the next.
 */
export async function purgeDueAccounts(ctx: Pick<ServiceContext, "db" | "env" | "config" | "now">): Promise<{ accounts: number; auditRows: number }> {
  const { env, db, config, now } = ctx;
  const cutoff = new Date(now.getTime() - config.ACCOUNT_PURGE_DAYS * DAY);
  const due = await dueAccounts(db, cutoff, PURGE_ACCOUNTS_PER_TICK);
  let budget = AUDIT_ROWS_PER_TICK;
  let accounts = 0;
  for (const account of due) {
    const done = await anonymiseAudit(db, account, budget);
    budget -= done.rows;
    if (!done.finished) break;
    if (await eraseAccount(db, account, cutoff, now)) {
      accounts += 1;
      // The edge marker has nothing left to guard once every access token issued before the
      // request has expired (always, unless ACCOUNT_PURGE_DAYS is 0): drop it, no KV garbage.
      const requestedAt = account.deletionRequestedAt?.getTime() ?? 0;
      if (now.getTime() - requestedAt > (config.ACCESS_TOKEN_TTL_SECONDS + 60) * 1000) await publishUserBlocked(env, account.id, null);
    }
  }
  return { accounts, auditRows: AUDIT_ROWS_PER_TICK - budget };
}

async function anonymiseAudit(db: Db, account: DueAccount, budget: number): Promise<{ rows: number; finished: boolean }> {
  const owner = systemOwner(account.id, "cron");
  let rows = 0;
  while (rows < budget) {
    const page = await auditRowsToAnonymise(db, owner, Math.min(AUDIT_ROWS_PER_BATCH, budget - rows));
    if (page.length === 0) return { rows, finished: true };
    const personal = [account.email, account.fullName, account.phone];
    await runBatch({ db }, page.map((r) => anonymiseAuditRow(db, r.id, scrubDetails(r.details, personal))));
    rows += page.length;
  }
  return { rows, finished: (await auditRowsToAnonymise(db, owner, 1)).length === 0 };
}

async function eraseAccount(db: Db, account: DueAccount, cutoff: Date, now: Date): Promise<boolean> {
  const statements = eraseAccountStatements(db, account, cutoff, INVITATION_WINDOW_MS);
  // The event of the erasure itself: no personal field, the account id only.
  const audit = auditInsert(db, { ...SYSTEM, now }, { userId: null, actorId: null, action: "gdpr.account_purged", details: { account_id: account.id } });
  // The user row's deletion is the last of the erasure statements (its `returning` says whether it happened).
  const [, , , , , , , , removed] = await runBatch({ db }, [...statements, audit]);
  return removed.length > 0;
}
