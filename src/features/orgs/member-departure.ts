import type { SQL } from "drizzle-orm";
import type { Db, Statement } from "../../platform/db";

/**
 * A statement another feature adds to the batch that removes a member: the items that member
 * shared with the organization leave with them (private again). `gone` is the SQL condition "the
 * user is no longer a member", true once the removal in the same batch ran.
 */
export type DepartureStatement = (db: Db, orgId: string, userId: string, gone: SQL) => Statement;

const departures = new Set<DepartureStatement>();

/**
 * Registers what a member's removal also does, for features that share items with organizations
 * (notes, favorites). Called once by the composition root (app.ts), so organizations depend on
 * no sharing feature while every removal still unshares in the same transaction.
 */
export function onMemberDeparture(...statements: DepartureStatement[]): void {
  for (const s of statements) departures.add(s);
}

/** The registered departure statements for one removal. */
export const departureStatements = (db: Db, orgId: string, userId: string, gone: SQL): Statement[] => [...departures].map((s) => s(db, orgId, userId, gone));
