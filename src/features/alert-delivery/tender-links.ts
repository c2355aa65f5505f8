import type { ServiceContext } from "../../platform/context";

/**
 * The ONE place a tender URL in an email comes from (alert emails, digests, reminders, change
 * notices). For now the tender's API URL with the email it came from as `source`; the signed
 * `/l/` click links replace this body, not its callers (keep the signature).
 */
export async function tenderEmailUrl(
  ctx: ServiceContext,
  args: { userId: string; tenderId: string; source: "alert" | "digest" | "reminder" | "change" },
): Promise<string> {
  const url = new URL(`/api/v1/tenders/${encodeURIComponent(args.tenderId)}`, ctx.config.PUBLIC_BASE_URL);
  url.searchParams.set("source", args.source);
  return url.toString();
}
