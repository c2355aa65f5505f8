/**
 * The pure steps of tender ingest (POST /tenders): which rows were inserted or changed, and the
 * `alert-matching` queue messages that carry them. No I/O.
 */
import type { AlertMatchingJob } from "../../env";
import { MINUTE, DAY } from "../../platform/time";

/** A row of the upsert's RETURNING: only rows that were inserted or actually changed come back. */
export interface UpsertReturned {
  id: string;
  external_id: string;
}

/**
 * Tells inserted from updated rows. Every submitted tender is given a fresh id (`proposed`, by
 * external id) before the upsert; an insert keeps it, an update of an existing tender returns the
 * existing id. The upsert's `DO UPDATE … WHERE <a field differs>` returns nothing for an
 * unchanged tender, so the union is exactly "new or changed": the ids to queue for matching.
 *
 * @example classifyUpsert(new Map([["E1", "tnd_a"], ["E2", "tnd_b"]]), [{ id: "tnd_a", external_id: "E1" }, { id: "tnd_old", external_id: "E2" }])
 * // { inserted: ["tnd_a"], updated: ["tnd_old"] }
 */
export function classifyUpsert(proposed: ReadonlyMap<string, string>, returned: readonly UpsertReturned[]) {
  const inserted: string[] = [];
  const updated: string[] = [];
  for (const row of returned) (proposed.get(row.external_id) === row.id ? inserted : updated).push(row.id);
  return { inserted, updated };
}

/** Tender ids per message: 100 ids of ~30 characters keep a message far below the 128 KB limit. */
export const IDS_PER_MESSAGE = 100;
/** Queues accept at most 100 messages per `sendBatch`. */
export const MESSAGES_PER_SEND = 100;

/**
 * The `alert-matching` messages for these tender ids, grouped into `sendBatch` calls: at most
 * {@link IDS_PER_MESSAGE} ids per message and {@link MESSAGES_PER_SEND} messages per call.
 *
 * @example matchingSends(["tnd_a", "tnd_b"]) // [[{ body: { tenderIds: ["tnd_a", "tnd_b"] } }]]
 */
export function matchingSends(tenderIds: readonly string[]): { body: AlertMatchingJob }[][] {
  const messages: { body: AlertMatchingJob }[] = [];
  for (let i = 0; i < tenderIds.length; i += IDS_PER_MESSAGE) messages.push({ body: { tenderIds: tenderIds.slice(i, i + IDS_PER_MESSAGE) } });
  const sends: { body: AlertMatchingJob }[][] = [];
  for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) sends.push(messages.slice(i, i + MESSAGES_PER_SEND));
  return sends;
}

/**
 * How long a tender may stay pending matching before the cron resends it. Well above a healthy
 * queue's delivery plus the consumer's retries of a batch (30 s apart), so the resend is for sends
 * that were lost, not for messages still on their way.
 */
export const MATCH_RESEND_GRACE_MS = 10 * MINUTE;
/**
 * Tenders resent per cron tick (every 15 minutes): 50 messages of 100 ids, one `sendBatch` far
 * under its 256 KB limit, and one indexed UPDATE of as many rows.
 */
export const MATCH_RESEND_PER_TICK = 5_000;

/** Days ahead in which an open tender counts as urgent (API.md, `highlight_urgent_tenders`). */
export const URGENT_WITHIN_MS = 7 * DAY;

/** Whether a tender closes within the next 7 days (and has not closed yet). */
export function isUrgent(closingDate: Date | null, now: Date): boolean {
  if (!closingDate) return false;
  const left = closingDate.getTime() - now.getTime();
  return left >= 0 && left <= URGENT_WITHIN_MS;
}
