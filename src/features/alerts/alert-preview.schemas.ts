import { z } from "@hono/zod-openapi";
import { TenderCriteria } from "../tenders/criteria.schema";
import { TenderSchema } from "../tenders/tenders.schemas";
import { NOTIFICATION_FREQUENCIES } from "./alerts.schemas";

export const AlertPreviewInput = z
  .strictObject({
    criteria: TenderCriteria,
    notification_frequency: z.enum(NOTIFICATION_FREQUENCIES).optional().openapi({ description: "Default immediate, as for a new alert" }),
  })
  .openapi("AlertPreviewInput");
export type AlertPreviewInput = z.infer<typeof AlertPreviewInput>;

export const AlertPreviewSchema = z
  .object({
    matches_last_30_days: z.number().int().openapi({ description: "Tenders of the last 30 days these criteria match (of at most `scanned`, newest first)" }),
    scanned: z.number().int().openapi({ description: "Tenders of the last 30 days examined" }),
    scan_capped: z.boolean().openapi({ description: "true when more recent tenders existed than a preview examines: the count is a lower bound" }),
    sample: z
      .array(z.object({ tender: TenderSchema, reasons: z.array(z.string()).openapi({ example: ['keyword "bridge"', "state Bihar"] }) }))
      .openapi({ description: "Up to 10 of the matches, newest first, with why each matched" }),
    expected_emails_per_week: z.number().openapi({
      description:
        "From the last 30 days: immediate = matches per week (capped at 7 × max_alerts_per_day); daily_digest = days with a match per week; weekly_digest = weeks with a match per week (≤ 1)",
    }),
  })
  .openapi("AlertPreview");
