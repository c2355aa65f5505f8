import { z } from "@hono/zod-openapi";
import { textFromBase64, textToBase64url } from "./encoding";

/** `?limit=` (default 25, max 100) and `?cursor=` (opaque), as every list of the contract takes. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/**
 * Cursors are base64url of the last item's sort key: opaque to clients, trivial to decode. Keys
 * are ASCII (ids, numbers), so UTF-8 here equals the Latin-1 of the `btoa` this replaced.
 */
export const encodeCursor = (key: string) => textToBase64url(key);

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    return textFromBase64(cursor);
  } catch {
    return undefined;
  }
}

/** Given `limit + 1` rows, the page and its next cursor. */
export function toPage<R, O>(rows: R[], limit: number, key: (row: R) => string, map: (row: R) => O) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(map), next_cursor: more ? encodeCursor(key(page[page.length - 1]!)) : null };
}
