import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { sha256Hex } from "./crypto";
import { AppError } from "./errors";

/**
 * Conditional requests (RFC 9110 §13) for single resources (issue 18, point 4). A resource's
 * ETag is `"v<version>-<digest>"`: the row's `updated_at` in milliseconds (base 36), and a digest
 * of the JSON body, since some fields are derived from elsewhere (the caller's role, a plan that
 * lapsed, an email suppression) and must not be answered 304 when they change.
 * - GET answers `ETag`, and 304 (no body) when `If-None-Match` names it (weak comparison, `*`).
 * - PATCH / DELETE with `If-Match` pass the versions it names (`ifMatchOf`) to the service, whose
 *   UPDATE / DELETE is guarded by `updated_at IN (…)`: the check and the write are one statement,
 *   so of two tabs that PATCH the same version, exactly one wins and the other gets 412
 *   `precondition_failed`. A missing or someone else's resource is still 404, never 412. If-Match
 *   compares the version part: a change is based on the stored row, not on the derived fields.
 */

/** The ETag of a resource as the API prints it (`updated_at` is its version). */
export function versionETag(body: { updated_at: string }): string {
  return `"v${Date.parse(body.updated_at).toString(36)}-${sha256Hex(JSON.stringify(body)).slice(0, 16)}"`;
}

/** The entity-tags of an If-Match / If-None-Match list (`*` → "*"). */
function tagsOf(header: string): string[] | "*" {
  if (header.trim() === "*") return "*";
  return [...header.matchAll(/\s*(W\/)?("[^"]*")\s*(?:,|$)/g)].map((m) => `${m[1] ?? ""}${m[2]}`);
}

/** Whether If-None-Match names `etag` (weak comparison: `W/` is ignored). */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = tagsOf(header);
  return tags === "*" || tags.some((t) => t.replace(/^W\//, "") === etag);
}

/**
 * What If-Match asks of a write: undefined (no header, or `*`: the resource must exist, which the
 * write checks anyway), or the versions it names. A weak or foreign tag names no version (strong
 * comparison), so the guarded write matches nothing and answers 412.
 */
export type IfMatch = readonly Date[] | undefined;

export function ifMatchOf(header: string | undefined): IfMatch {
  if (header === undefined) return undefined;
  const tags = tagsOf(header);
  if (tags === "*") return undefined;
  return tags.flatMap((t) => {
    const m = /^"v([0-9a-z]{1,12})-[0-9a-f]{16}"$/.exec(t);
    return m ? [new Date(parseInt(m[1]!, 36))] : [];
  });
}

/** Whether a version satisfies If-Match (for a write that reads first, e.g. an empty PATCH). */
export const versionMatches = (ifMatch: IfMatch, updatedAt: Date) => ifMatch === undefined || ifMatch.some((d) => d.getTime() === updatedAt.getTime());

/** The 412 of a guarded write that matched nothing while the resource exists. */
export const preconditionFailed = () => new AppError("precondition_failed", "The resource changed since the ETag you sent in If-Match: read it again");

/** Throws 412 unless the version satisfies If-Match. */
export function assertVersion(ifMatch: IfMatch, updatedAt: Date): void {
  if (!versionMatches(ifMatch, updatedAt)) throw preconditionFailed();
}

/**
 * A 200 JSON answer with its ETag (from the body's `updated_at`), or 304 with no body when the
 * request's If-None-Match names it.
 */
export function jsonWithETag<T extends { updated_at: string }>(c: Context, body: T) {
  const etag = versionETag(body);
  if (noneMatchHits(c.req.header("If-None-Match"), etag)) return c.body(null, 304, { ETag: etag });
  return c.json(body, 200, { ETag: etag });
}

/** A 200 JSON answer of a write, with the resource's new ETag. */
export function jsonWithNewETag<T extends { updated_at: string }>(c: Context, body: T) {
  return c.json(body, 200, { ETag: versionETag(body) });
}

/** OpenAPI: the headers a conditional GET takes. */
export const ConditionalGetHeaders = z.object({
  "if-none-match": z.string().max(1024).optional().openapi({ description: "An ETag from an earlier answer: 304 when it is still current" }),
});

/** OpenAPI: the headers a conditional write takes. */
export const ConditionalWriteHeaders = z.object({
  "if-match": z.string().max(1024).optional().openapi({ description: "The ETag the change is based on: 412 precondition_failed when the resource changed since" }),
});

const ETAG_HEADER = { ETag: { description: "The resource's version, for If-None-Match and If-Match", schema: { type: "string" as const } } };

/** OpenAPI: a 200 JSON answer with its ETag header. */
export const jsonResponseWithETag = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  headers: ETAG_HEADER,
  content: { "application/json": { schema } },
});

/** OpenAPI: the 304 of a conditional GET. */
export const NotModified = { 304: { description: "Not modified: the If-None-Match ETag is current (no body)", headers: ETAG_HEADER } } as const;
