import type { ServiceContext } from "../../platform/context";
import { rollUpEngagementDay } from "./engagement.repo";

/** Engagement roll-up of these UTC days (`YYYY-MM-DD`): idempotent UPSERTs. */
export async function rollUpEngagement(ctx: Pick<ServiceContext, "db">, days: readonly string[]): Promise<void> {
  for (const day of days) await rollUpEngagementDay(ctx.db, day);
}
