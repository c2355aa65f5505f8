import { sql } from "drizzle-orm";
import { tenderInteractions, tenders, users } from "../../db/tables";
import { insertIf, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";

/** Interaction type of a click on an emailed tender link (tender_interactions.interaction_type). */
export const EMAIL_CLICK = "email_click";

/**
 * Records one click on an emailed link for `userId`, in ONE guarded statement: written only while
 * the tender and the user exist (a deleted tender or erased account records nothing). Returns
 * whether a row was written.
 */
export async function recordEmailClick(db: Db, v: { userId: string; tenderId: string; source: string; deviceType: string | null; now: Date }): Promise<boolean> {
  const result = await insertIf(
    db,
    tenderInteractions,
    { id: newId("tiv", v.now.getTime()), userId: v.userId, tenderId: v.tenderId, interactionType: EMAIL_CLICK, source: `email_${v.source}`, deviceType: v.deviceType, createdAt: v.now },
    sql`EXISTS (SELECT 1 FROM ${tenders} WHERE ${tenders.id} = ${v.tenderId}) AND EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${v.userId})`,
  );
  return ((result as unknown as D1Result).meta?.changes ?? 0) > 0;
}

/** Whether the tender exists (a link to a deleted one gets a page that says so). */
export async function tenderExists(db: Db, tenderId: string): Promise<boolean> {
  const rows = await db.select({ one: sql<number>`1` }).from(tenders).where(sql`${tenders.id} = ${tenderId}`).limit(1);
  return rows.length > 0;
}
