import { DAY } from "../../platform/time";
import type { DeliveryContext } from "./delivery.context";
import { sendImmediateEmails } from "./immediate.service";

/** How far back the release looks: a match held longer than a day is the digest's (or was capped). */
export const QUIET_HOURS_RELEASE_WINDOW_MS = DAY;
/** Matches read per tick; the rest wait for the next tick (15 minutes). */
export const QUIET_HOURS_RELEASE_LIMIT = 5000;

/**
 * From the cron: immediate matches of the last day still pending for users with quiet hours are
 * emailed (one coalesced email per user) once the user's quiet hours are over, even when their
 * digest is `never`. Users still in quiet hours, or at their daily cap, are left as they are;
 * the guarded claim makes a rerun, or a consumer batch at the same moment, send nothing twice.
 * Returns how many emails were written.
 */
export async function releaseQuietHoursMatches(ctx: DeliveryContext): Promise<number> {
  const sent = await sendImmediateEmails(ctx, { heldSince: new Date(ctx.now.getTime() - QUIET_HOURS_RELEASE_WINDOW_MS), limit: QUIET_HOURS_RELEASE_LIMIT });
  return sent.length;
}
