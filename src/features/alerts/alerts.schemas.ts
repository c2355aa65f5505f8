import { z } from "@hono/zod-openapi";
import { pageOf } from "../../platform/pagination";
import { TenderSchema, toTenderOut } from "../tenders/tenders.schemas";
import type { TenderRow } from "../tenders/tenders.repo";
import { TenderCriteria } from "../tenders/criteria.schema";
import type { AlertRow } from "./alerts.repo";

export const NOTIFICATION_METHODS = ["email", "in_app"] as const;
export const NOTIFICATION_FREQUENCIES = ["immediate", "daily_digest", "weekly_digest"] as const;

const fields = {
  name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(1000).nullable().optional(),
  criteria: TenderCriteria,
  notification_methods: z
    .array(z.enum(NOTIFICATION_METHODS))
    .max(2)
    .transform((m) => [...new Set(m)])
    .optional()
    .openapi({ description: 'Default ["email"]; [] keeps the alert matching without notifying' }),
  notification_frequency: z.enum(NOTIFICATION_FREQUENCIES).optional().openapi({ description: "Default immediate" }),
  is_active: z.boolean().optional(),
  allow_unknown_values: z
    .boolean()
    .optional()
    .openapi({ description: "true keeps a state or department that no tender has had yet; otherwise such a value answers 422 unknown_criteria_value. Not stored" }),
};

export const CreateAlertInput = z.strictObject(fields).openapi("CreateAlertInput");
export type CreateAlertInput = z.infer<typeof CreateAlertInput>;

/** PATCH: any field; `criteria`, when given, replaces the criteria whole (it is validated as one object). */
export const UpdateAlertInput = z
  .strictObject({ ...fields, name: fields.name.optional(), criteria: TenderCriteria.optional() })
  .refine((v) => Object.keys(v).length > 0, { message: "Give at least one field" })
  .openapi("UpdateAlertInput");
export type UpdateAlertInput = z.infer<typeof UpdateAlertInput>;

export const AlertSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    criteria: TenderCriteria,
    notification_methods: z.array(z.enum(NOTIFICATION_METHODS)),
    notification_frequency: z.enum(NOTIFICATION_FREQUENCIES),
    is_active: z.boolean(),
    total_matches: z.number().int(),
    total_notifications_sent: z.number().int(),
    last_matched_at: z.string().nullable(),
    last_notified_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Alert");

export const AlertPage = pageOf(AlertSchema).openapi("AlertPage");

export const AlertMatchSchema = z
  .object({
    id: z.string(),
    matched_at: z.string(),
    notification_status: z.enum(["pending", "sent", "failed", "dismissed"]),
    notified_at: z.string().nullable(),
    tender: TenderSchema,
  })
  .openapi("AlertMatch");

export const AlertMatchPage = pageOf(AlertMatchSchema).openapi("AlertMatchPage", { description: "Newest first" });

export function toAlertOut(row: AlertRow): z.infer<typeof AlertSchema> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    criteria: row.criteria,
    notification_methods: row.notificationMethods,
    notification_frequency: row.notificationFrequency,
    is_active: row.isActive,
    total_matches: row.totalMatches,
    total_notifications_sent: row.totalNotificationsSent,
    last_matched_at: row.lastMatchedAt?.toISOString() ?? null,
    last_notified_at: row.lastNotifiedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toAlertMatchOut(r: { match: { id: string; matchedAt: Date; notificationStatus: "pending" | "sent" | "failed" | "dismissed"; notifiedAt: Date | null }; tender: TenderRow }) {
  return {
    id: r.match.id,
    matched_at: r.match.matchedAt.toISOString(),
    notification_status: r.match.notificationStatus,
    notified_at: r.match.notifiedAt?.toISOString() ?? null,
    tender: toTenderOut(r.tender, false),
  };
}
