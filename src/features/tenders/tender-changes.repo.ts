import { sql } from "drizzle-orm";
import { alertMatches, favorites, tenderChanges, tenders } from "../../db/tables";
import { rawStatement, type Db } from "../../platform/db";
import { DAY } from "../../platform/time";
import type { TenderWrite } from "./tenders.repo";

/** A tender is followed by a favorite, or by an alert match of the last FOLLOW_DAYS days. */
export const FOLLOW_DAYS = 30;

/**
 * The change outbox of an ingest: for every submitted tender that already exists, is followed and
 * whose closing date or value differs from the stored one, a tender_changes row with
 * `{field: [old, new]}`. Runs in the ingest batch BEFORE the upsert, so it reads the old row and
 * commits with the change (or not at all). One statement per chunk of rows (one JSON parameter).
 */
export function recordTenderChangesStatement(db: Db, rows: readonly TenderWrite[], now: Date) {
  const incoming = JSON.stringify(rows.map((r) => ({ external_id: r.external_id, closing_date: r.closing_date, value: r.value })));
  const since = now.getTime() - FOLLOW_DAYS * DAY;
  return rawStatement(
    db,
    sql`INSERT INTO ${tenderChanges} (id, tender_id, changes, created_at)
      SELECT 'tch_' || lower(hex(randomblob(12))), t.id,
        json_object(
          'closing_date', CASE WHEN t.closing_date IS NOT j.value ->> 'closing_date' THEN json_array(t.closing_date, j.value ->> 'closing_date') END,
          'value', CASE WHEN t.value IS NOT j.value ->> 'value' THEN json_array(t.value, j.value ->> 'value') END),
        ${now.getTime()}
      FROM json_each(${incoming}) AS j JOIN ${tenders} t ON t.external_id = j.value ->> 'external_id'
      WHERE (t.closing_date IS NOT j.value ->> 'closing_date' OR t.value IS NOT j.value ->> 'value')
        AND (EXISTS (SELECT 1 FROM ${favorites} f WHERE f.tender_id = t.id)
          OR EXISTS (SELECT 1 FROM ${alertMatches} m WHERE m.tender_id = t.id AND m.matched_at >= ${since}))`,
  );
}
