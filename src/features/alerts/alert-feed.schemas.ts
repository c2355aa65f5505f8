import { z } from "@hono/zod-openapi";
import { SYNC_CURSOR } from "../../platform/feed";
import { AlertMatchSchema } from "./alerts.schemas";

export const AlertMatchFeedQuery = z.object({
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Matches recorded at or after this instant (default: all); ignored with cursor" }),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(500).optional(),
});

export const AlertMatchFeedPage = z
  .object({
    items: z.array(AlertMatchSchema.extend({ alert_id: z.string() })),
    next_cursor: z.string().nullable(),
    sync_cursor: SYNC_CURSOR,
  })
  .openapi("AlertMatchFeedPage", { description: "Oldest first" });
