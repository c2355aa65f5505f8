import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";

const CORRELATION = /^[A-Za-z0-9._:-]{1,64}$/;

/** A client's correlation id, if it is a short plain token; anything else is dropped. */
export function sanitizeCorrelationId(value: string | undefined): string | null {
  const v = value?.trim();
  return v && CORRELATION.test(v) ? v : null;
}

/**
 * Request ids are ours: every request gets a fresh one (`X-Request-Id` on the response, in logs,
 * problem documents and audit rows), whatever the client sent, so no audit row can carry a
 * forged id. A client's own `X-Request-Id` (or `X-Correlation-Id`) is kept only as a separate,
 * sanitised correlation id, echoed as `X-Correlation-Id`.
 */
export function requestIds({ generate = () => crypto.randomUUID() }: { generate?: () => string } = {}): MiddlewareHandler<AppEnv> {
  return async function assignRequestId(c, next) {
    const id = generate();
    c.set("requestId", id);
    c.header("X-Request-Id", id);
    const correlation = sanitizeCorrelationId(c.req.header("X-Correlation-Id") ?? c.req.header("X-Request-Id"));
    if (correlation) c.header("X-Correlation-Id", correlation);
    await next();
  };
}
