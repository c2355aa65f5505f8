import { z } from "@hono/zod-openapi";
import { PageQuery } from "../../platform/pagination";
import type { NotificationRow } from "./notifications.repo";

export const ListNotificationsQuery = PageQuery.extend({
  unread_only: z
    .enum(["true", "false", "1", "0"])
    .transform((v) => v === "true" || v === "1")
    .optional(),
});

export const NotificationSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    title: z.string(),
    message: z.string(),
    action_url: z.string().nullable(),
    related_tender_id: z.string().nullable(),
    related_alert_id: z.string().nullable(),
    is_read: z.boolean(),
    read_at: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
  })
  .openapi("Notification");

export const NotificationPage = z
  .object({ items: z.array(NotificationSchema), next_cursor: z.string().nullable(), unread_count: z.number().int() })
  .openapi("NotificationPage");

export const toNotificationOut = (r: NotificationRow): z.infer<typeof NotificationSchema> => ({
  id: r.id,
  type: r.type,
  title: r.title,
  message: r.message,
  action_url: r.actionUrl,
  related_tender_id: r.relatedTenderId,
  related_alert_id: r.relatedAlertId,
  is_read: r.isRead,
  read_at: r.readAt?.toISOString() ?? null,
  created_at: r.createdAt.toISOString(),
  expires_at: r.expiresAt?.toISOString() ?? null,
});
