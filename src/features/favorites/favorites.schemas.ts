import { z } from "@hono/zod-openapi";
import { PageQuery, pageOf } from "../../platform/pagination";
import { TenderSchema, toTenderOut } from "../tenders/tenders.schemas";
import type { FavoriteWithTender } from "./favorites.repo";

export const PRIORITIES = ["high", "medium", "low"] as const;
export const BID_STATUS_VALUES = ["planning", "preparing", "submitted", "won", "lost", "withdrawn"] as const;

const Folder = z.string().trim().min(1).max(100);
const Tags = z
  .array(z.string().trim().min(1).max(50))
  .max(20)
  .transform((tags) => [...new Set(tags)]);
const NotesText = z.string().max(5000);
const OrganizationId = z
  .string()
  .min(1)
  .max(64)
  .nullish()
  .openapi({
    description:
      "Shares the favorite with this one organization (the caller must be its owner, admin or member: a viewer gets 403, an organization " +
      "the caller does not belong to is 404). Its members see it on GET /orgs/{id}/favorites while the caller belongs to it. Omitted: " +
      "unchanged (private for a new favorite); null: private.",
  });

export const AddFavoriteInput = z
  .strictObject({
    tender_id: z.string().min(1).max(64),
    folder: Folder.nullish(),
    tags: Tags.optional(),
    notes: NotesText.nullish(),
    priority: z.enum(PRIORITIES).nullish(),
    organization_id: OrganizationId,
  })
  .openapi("AddFavoriteInput", { description: "Saving a tender that is already a favorite updates the fields given (200)." });
export type AddFavoriteInput = z.infer<typeof AddFavoriteInput>;

export const UpdateFavoriteInput = z
  .strictObject({
    folder: Folder.nullish(),
    tags: Tags.optional(),
    notes: NotesText.nullish(),
    priority: z.enum(PRIORITIES).nullish(),
    bid_status: z.enum(BID_STATUS_VALUES).optional().openapi({
      description: "planning → preparing → submitted → won | lost, or withdrawn. Any status may be set from no status or an open one (forward moves may skip steps; a bid submitted offline is recorded directly); a withdrawn bid can be reopened; won and lost are recorded outcomes and move nowhere else (422). Moving to submitted sets bid_submitted_at; moving back to planning or preparing clears it.",
    }),
    bid_amount: z.number().nonnegative().finite().nullish(),
    organization_id: OrganizationId,
  })
  .openapi("UpdateFavoriteInput");
export type UpdateFavoriteInput = z.infer<typeof UpdateFavoriteInput>;

export const FavoritesQuery = PageQuery.extend({
  folder: z.string().max(100).optional(),
  priority: z.enum(PRIORITIES).optional(),
  bid_status: z.enum(BID_STATUS_VALUES).optional(),
  tag: z.string().max(50).optional(),
});
export type FavoritesQuery = z.infer<typeof FavoritesQuery>;

export const FavoriteTenderSchema = TenderSchema.omit({ urgent: true }).openapi("FavoriteTender");

export const FavoriteSchema = z
  .object({
    id: z.string(),
    tender_id: z.string(),
    folder: z.string().nullable(),
    tags: z.array(z.string()),
    notes: z.string().nullable(),
    priority: z.enum(PRIORITIES).nullable(),
    bid_status: z.enum(BID_STATUS_VALUES).nullable(),
    bid_amount: z.number().nullable(),
    bid_submitted_at: z.string().nullable(),
    organization_id: z.string().nullable().openapi({ description: "The organization the favorite is shared with; null when private" }),
    created_at: z.string(),
    updated_at: z.string(),
    tender: FavoriteTenderSchema,
  })
  .openapi("Favorite");

export const FavoritePage = pageOf(FavoriteSchema).openapi("FavoritePage");

export function toFavoriteOut({ favorite: f, tender }: FavoriteWithTender): z.infer<typeof FavoriteSchema> {
  const { urgent: _urgent, ...tenderOut } = toTenderOut(tender, false);
  return {
    id: f.id,
    tender_id: f.tenderId,
    folder: f.folder,
    tags: f.tags,
    notes: f.notes,
    priority: f.priority,
    bid_status: f.bidStatus,
    bid_amount: f.bidAmount,
    bid_submitted_at: f.bidSubmittedAt?.toISOString() ?? null,
    organization_id: f.organizationId,
    created_at: f.createdAt.toISOString(),
    updated_at: f.updatedAt.toISOString(),
    tender: tenderOut,
  };
}
