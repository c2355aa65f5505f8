import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt } from "../columns";
import { users } from "./users";

export const tenders = sqliteTable(
  "tenders",
  {
    id: text("id").primaryKey(),
    externalId: text("external_id").notNull(),
    title: text("title").notNull(),
    description: text("description"),
    /**
     * Title and description as the matcher reads them (`normalizeText`: NFKD, case folded, marks
     * removed), written by the upsert and indexed by `tenders_fts` instead of the raw text, so
     * FTS5 candidates agree with the matcher in every script (full-width letters, ligatures,
     * Indic vowel signs). NULL only for rows written by hand in SQL: the FTS triggers then index
     * the raw text.
     */
    searchTitle: text("search_title"),
    searchDescription: text("search_description"),
    department: text("department"),
    state: text("state"),
    portal: text("portal"),
    value: real("value"),
    currency: text("currency").notNull().default("INR"),
    publishedAt: ts("published_at"),
    closingDate: ts("closing_date"),
    url: text("url"),
    createdAt: createdAt(),
    // Also the tender's version: every change moves it forward by at least 1 ms (see the upsert),
    // so "the consumer matched this version" is one comparison.
    updatedAt: updatedAt(),
    // The queue outbox: set in the ingest batch that inserts or changes the tender, cleared by the
    // alert-matching consumer once it matched that version; the cron resends what stays set.
    // NULL for every tender that is matched (most rows), so its index is partial.
    matchPendingSince: ts("match_pending_since"),
    /** Times the cron resent this version for matching (each resend follows an attempt that did not finish). */
    matchAttempts: integer("match_attempts").notNull().default(0),
    /** Set (and the pending mark cleared) when matching failed MATCH_MAX_ATTEMPTS times: not resent again. */
    matchParkedAt: ts("match_parked_at"),
  },
  (t) => [
    uniqueIndex("tenders_external_id_unique").on(t.externalId),
    index("tenders_match_pending_idx").on(t.matchPendingSince).where(sql`match_pending_since IS NOT NULL`),
    index("tenders_match_parked_idx").on(t.matchParkedAt).where(sql`match_parked_at IS NOT NULL`),
    index("tenders_closing_date_idx").on(t.closingDate),
    index("tenders_published_at_idx").on(t.publishedAt),
    index("tenders_state_idx").on(t.state),
    index("tenders_department_idx").on(t.department),
    index("tenders_value_idx").on(t.value),
    // The first match of a new alert reads the newest recent tenders (ALERT_BACKFILL_MAX).
    index("tenders_updated_at_idx").on(t.updatedAt),
    // The change feed (GET /tenders?updated_since=) reads in (updated_at, id) order from a cursor.
    index("tenders_updated_id_idx").on(t.updatedAt, t.id),
  ],
);

export const tenderInteractions = sqliteTable(
  "tender_interactions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    tenderId: text("tender_id")
      .notNull()
      .references(() => tenders.id, { onDelete: "cascade" }),
    interactionType: text("interaction_type").notNull(),
    source: text("source"),
    deviceType: text("device_type"),
    createdAt: createdAt(),
  },
  (t) => [
    index("tender_interactions_user_idx").on(t.userId, t.createdAt),
    index("tender_interactions_tender_idx").on(t.tenderId),
    index("tender_interactions_type_idx").on(t.interactionType, t.createdAt),
    // Retention (INTERACTION_RETENTION_DAYS) deletes the oldest first, across users.
    index("tender_interactions_created_idx").on(t.createdAt),
  ],
);

/** How a search was run: `GET /tenders` with `q`, or `POST /me/saved-searches/{id}/run`. */
export const SEARCH_SOURCES = ["query", "saved_search"] as const;

/**
 * One search a user ran, for the engagement roll-up (`search_count`). A search names no tender,
 * so it has its own table rather than a row of tender_interactions (whose tender_id is required;
 * making it nullable would rebuild that table). Only who, how and when: not the query text,
 * which can be personal and is not needed to count. A cursor page of the same search is not a
 * new search.
 */
export const tenderSearches = sqliteTable(
  "tender_searches",
  {
    id: text("id").primaryKey(),
    // Kept without a user once the account is erased, like tender_interactions: no personal field remains.
    userId: text("user_id").references(() => users.id, { onDelete: "set null" }),
    source: text("source", { enum: SEARCH_SOURCES }).notNull(),
    deviceType: text("device_type"),
    createdAt: createdAt(),
  },
  // The user's rows: the export, the FK's SET NULL on erasure, and the roll-up (which SQLite runs
  // per user over a day's range: see its query-plan test).
  (t) => [index("tender_searches_user_idx").on(t.userId, t.createdAt)],
);
