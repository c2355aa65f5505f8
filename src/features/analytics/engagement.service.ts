import type { Db } from "../../platform/db";
import { rollUpEngagementDay } from "./engagement.repo";

/** Engagement roll-up of these UTC days (`YYYY-MM-DD`): idempotent UPSERTs. */
export async function rollUpEngagement(ctx: { db: Db }, days: readonly string[]): Promise<void> {
  for (const day of days) await rollUpEngagementDay(ctx.db, day);
}
