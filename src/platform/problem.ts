import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { AppError, ERRORS, type ErrorCode, type FieldError } from "./errors";
import { log } from "./log";

/** RFC 9457 problem document, as every 4xx/5xx of keel answers. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://keel.dev/problems/validation_failed" }),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    detail: z.string().optional(),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

const PROBLEM_TYPE_BASE = "https://keel.dev/problems/";

/**
 * What a problem document is made of: an AppError, or a plain object of the same shape where no
 * error was thrown and no stack trace is wanted (`plainProblem`).
 */
export type ProblemSource = Pick<AppError, "code" | "message" | "extra" | "status">;

/**
 * A problem without an Error behind it, for an answer that is not a failure of keel's code (an
 * unknown path): constructing an Error captures a stack trace, which every unknown-path request
 * would pay for nothing (bench:floor).
 */
export const plainProblem = (code: ErrorCode, detail?: string): ProblemSource => ({
  code,
  message: detail ?? ERRORS[code].title,
  extra: {},
  status: ERRORS[code].status,
});

/** Builds the problem+json response for an AppError. The only place error bodies are made. */
export function problemResponse(c: Context, error: ProblemSource): Response {
  const status = error.status;
  const body: Record<string, unknown> = {
    type: PROBLEM_TYPE_BASE + error.code,
    title: ERRORS[error.code].title,
    status,
    code: error.code,
    detail: error.message,
    instance: c.req.path,
    request_id: c.get("requestId"),
    ...error.extra.fields,
  };
  if (error.extra.errors) body.errors = error.extra.errors;
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (error.extra.retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(error.extra.retryAfter)));
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="keel"';
  return c.body(JSON.stringify(body), status, headers);
}

/** zod issues → `errors[{path, message}]`. */
export function zodFieldErrors(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
}

/**
 * The one error handler. AppError → its problem; hono's HTTPExceptions (malformed JSON, body
 * limit) → the contract's codes; anything else is logged with the request id and answered 500
 * without internals.
 */
export function onError(err: Error, c: Context): Response {
  if (err instanceof AppError) return problemResponse(c, err);
  if (err instanceof HTTPException) {
    const status = err.status as number;
    if (status === 413) return problemResponse(c, new AppError("payload_too_large", "Request body exceeds 1 MiB"));
    if (status === 401) return problemResponse(c, new AppError("unauthenticated"));
    if (status === 404) return problemResponse(c, new AppError("not_found"));
    if (status >= 400 && status < 500) {
      return problemResponse(
        c,
        new AppError("validation_failed", err.message || "Malformed request", { status: 400 as ContentfulStatusCode }),
      );
    }
  }
  // No bound SQL parameters (emails, hashes, tokens) in logs: the logger writes safeErrorText.
  log.error("unhandled error", { request_id: c.get("requestId"), path: c.req.path }, err);
  return problemResponse(c, new AppError("internal_error", "An unexpected error occurred"));
}

/**
 * OpenAPI response entries for the given statuses, so documented errors can never drift from
 * ERRORS. @example responses: { 200: …, ...problemResponses(401, 404, 422) }
 */
export function problemResponses<S extends number>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; content: { "application/problem+json": { schema: typeof ProblemSchema } } }>;
  for (const status of statuses) {
    const codes = (Object.keys(ERRORS) as ErrorCode[]).filter((code) => ERRORS[code].status === status);
    out[status] = {
      description: codes.length ? `Problem: ${codes.join(", ")}` : "Problem",
      content: { "application/problem+json": { schema: ProblemSchema } },
    };
  }
  return out;
}
