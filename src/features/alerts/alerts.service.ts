import { assertKnownCriteriaValues } from "../tenders/facets.service";
import { ownerOf } from "../../identity/owner";
import { sendImmediateEmails } from "../alert-delivery/immediate.service";
import type { Actor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError } from "../../platform/errors";
import { preconditionFailed, type IfMatch } from "../../platform/etag";
import { newId } from "../../platform/ids";
import { decodeCursor, toPage } from "../../platform/pagination";
import { auditInsertIf } from "../../audit/audit.repo";
import { limitsFor } from "../orgs/orgs.access";
import { firstMatchCandidates } from "./alert-matching.repo";
import { matchingIndex, matchPairs, recordMatches } from "./alert-matching.service";
import { alertsRepo, bumpAlertsVersion, bumpAlertsVersionIf, type AlertWrite } from "./alerts.repo";
import { compileCriteria, toFtsQuery } from "../tenders/match";
import { toAlertMatchOut, toAlertOut, type CreateAlertInput, type UpdateAlertInput } from "./alerts.schemas";
import { DAY } from "../../platform/time";

/** How far back a new immediate alert is matched at once. */
export const FIRST_MATCH_DAYS = 7;

/**
 * POST /me/alerts: 409 `limit_reached` at the plan limit (guarded insert). The version stamp is
 * bumped in the same batch. An active immediate alert is matched at once against the newest
 * ALERT_BACKFILL_MAX tenders of the last 7 days (narrowed by the FTS index, so descriptions are
 * read only where the alert's words are), through the consumer's own code path (matches,
 * notifications, emails).
 */
export async function createAlert(ctx: RequestContext, actor: Actor, input: CreateAlertInput) {
  const { db, now } = ctx;
  if (!input.allow_unknown_values) await assertKnownCriteriaValues(ctx, input.criteria);
  const { max_alerts: maxAlerts } = await limitsFor(ctx, actor);
  const repo = alertsRepo(db, ownerOf(actor));
  const id = newId("alr", now.getTime());
  const write: AlertWrite = {
    name: input.name,
    description: input.description ?? null,
    criteria: input.criteria,
    notificationMethods: input.notification_methods ?? ["email"],
    notificationFrequency: input.notification_frequency ?? "immediate",
    isActive: input.is_active ?? true,
  };
  const [inserted, , , [row]] = await db.batch([
    repo.insertWithinLimit({ id, now, ...write }, maxAlerts),
    auditInsertIf(db, ctx, { userId: actor.userId, action: "alert.created", details: { alert_id: id } }, repo.exists(id)),
    bumpAlertsVersion(db),
    repo.byId(id),
  ]);
  if ((inserted as D1Result).meta.changes === 0 || !row) {
    throw new AppError("limit_reached", `Your plan allows ${maxAlerts} alerts`, { fields: { limit: maxAlerts } });
  }
  if (row.isActive && row.notificationFrequency === "immediate") {
    const recent = await firstMatchTenders(ctx, row.criteria);
    const pairs = matchPairs(matchingIndex([{ id: row.id, userId: row.userId, criteria: row.criteria }]), recent, now);
    if ((await recordMatches(ctx, pairs)) > 0) await sendImmediateEmails(ctx, { alertId: row.id });
    const [fresh] = await repo.byId(id);
    if (fresh) return toAlertOut(fresh);
  }
  return toAlertOut(row);
}

/** The bounded candidates of a new alert's first match (see firstMatchCandidates). */
function firstMatchTenders(ctx: RequestContext, criteria: AlertWrite["criteria"]) {
  const compiled = compileCriteria(criteria);
  const fts = compiled.keywords ? toFtsQuery(compiled.keywords) : null;
  // Keywords without a word match nothing (the schema refuses them; fail closed on stored rows).
  if (compiled.keywords && fts === null) return Promise.resolve([]);
  return firstMatchCandidates(ctx.db, {
    since: new Date(ctx.now.getTime() - FIRST_MATCH_DAYS * DAY),
    limit: ctx.config.ALERT_BACKFILL_MAX,
    fts,
    excludeFts: toFtsQuery(compiled.excludes),
  });
}

export async function listAlerts(ctx: RequestContext, actor: Actor, q: { limit: number; cursor?: string }) {
  const rows = await alertsRepo(ctx.db, ownerOf(actor)).list({ before: decodeCursor(q.cursor), limit: q.limit });
  return toPage(rows, q.limit, (r) => r.id, toAlertOut);
}

export async function getAlert(ctx: RequestContext, actor: Actor, id: string) {
  const [row] = await alertsRepo(ctx.db, ownerOf(actor)).byId(id);
  if (!row) throw new AppError("not_found", "Alert not found");
  return toAlertOut(row);
}

/** PATCH /me/alerts/{id}: criteria, when given, are replaced whole. */
export async function updateAlert(ctx: RequestContext, actor: Actor, id: string, input: UpdateAlertInput, ifMatch?: IfMatch) {
  const { db, now } = ctx;
  if (input.criteria && !input.allow_unknown_values) await assertKnownCriteriaValues(ctx, input.criteria);
  const repo = alertsRepo(db, ownerOf(actor));
  const set: Partial<AlertWrite> = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(input.criteria !== undefined ? { criteria: input.criteria } : {}),
    ...(input.notification_methods !== undefined ? { notificationMethods: input.notification_methods } : {}),
    ...(input.notification_frequency !== undefined ? { notificationFrequency: input.notification_frequency } : {}),
    ...(input.is_active !== undefined ? { isActive: input.is_active } : {}),
  };
  // The bump and the audit row are guarded by the state before the update: a 404 or a rename moves
  // no version stamp (which would make every matching isolate rebuild its index).
  const [, , updated] = await db.batch([
    auditInsertIf(db, ctx, { userId: actor.userId, action: "alert.updated", details: { alert_id: id, fields: Object.keys(input) } }, repo.exists(id, ifMatch)),
    bumpAlertsVersionIf(db, repo.changesIndex(id, set, ifMatch)),
    repo.update(id, set, now, ifMatch),
  ]);
  const [row] = updated;
  if (!row) throw await missingOrChanged(repo, id, ifMatch);
  return toAlertOut(row);
}

export async function deleteAlert(ctx: RequestContext, actor: Actor, id: string, ifMatch?: IfMatch) {
  const { db } = ctx;
  const repo = alertsRepo(db, ownerOf(actor));
  const [, , removed] = await db.batch([
    auditInsertIf(db, ctx, { userId: actor.userId, action: "alert.deleted", details: { alert_id: id } }, repo.exists(id, ifMatch)),
    bumpAlertsVersionIf(db, repo.exists(id, ifMatch)),
    repo.remove(id, ifMatch),
  ]);
  if (removed.length === 0) throw await missingOrChanged(repo, id, ifMatch);
}

/** Why a guarded write matched nothing: 412 when the caller's alert exists (If-Match), else 404. */
async function missingOrChanged(repo: ReturnType<typeof alertsRepo>, id: string, ifMatch: IfMatch): Promise<AppError> {
  if (ifMatch && (await repo.byId(id)).length > 0) return preconditionFailed();
  return new AppError("not_found", "Alert not found");
}

/** GET /me/alerts/{id}/matches: newest first, the tender embedded; 404 for another user's alert. */
export async function listAlertMatches(ctx: RequestContext, actor: Actor, id: string, q: { limit: number; cursor?: string }) {
  const repo = alertsRepo(ctx.db, ownerOf(actor));
  // Two reads, not one batch: drizzle maps a joined select wrongly inside a D1 batch (duplicate column names).
  const [alert] = await repo.byId(id);
  if (!alert) throw new AppError("not_found", "Alert not found");
  const rows = await repo.matches(id, { before: decodeCursor(q.cursor), limit: q.limit });
  return toPage(rows, q.limit, (r) => r.match.id, toAlertMatchOut);
}
