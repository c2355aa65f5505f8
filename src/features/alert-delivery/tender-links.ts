import type { ServiceContext } from "../../platform/context";
import { tenderPortalUrl } from "../tenders/tenders.repo";

/**
 * The link to a tender in an email: its portal page when it has one, else the API's tender
 * (as the immediate alert emails link it today), tagged with why the email was sent.
 */
export async function tenderEmailUrl(
  ctx: ServiceContext,
  args: { userId: string; tenderId: string; source: "alert" | "digest" | "reminder" | "change" },
): Promise<string> {
  const url = await tenderPortalUrl(ctx.db, args.tenderId);
  return url ?? new URL(`/api/v1/tenders/${encodeURIComponent(args.tenderId)}?source=${args.source}`, ctx.config.PUBLIC_BASE_URL).toString();
}
