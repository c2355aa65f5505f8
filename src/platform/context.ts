import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "../env";
import { getConfig, type Config } from "./config";
import { createDb, type Db } from "./db";
import type { Geo } from "./geo";
import { log as rootLog, type Logger } from "./log";
import { systemClock, type Clock } from "./time";

/**
 * What every service verb runs with, whatever the surface (an HTTP request, a cron tick, a queue
 * batch): D1, the bindings and secrets, the parsed config, the clock, a logger and waitUntil.
 */
export interface ServiceContext {
  env: Env;
  db: Db;
  config: Config;
  /** The time source; the system clock unless a test or the cron passes its own. */
  clock: Clock;
  /** The structured logger, with the unit of work's fields bound (`request_id`, `queue`, `cron`). */
  log: Logger;
  /**
   * The instant the unit of work began (the request's arrival, the cron tick's scheduled time,
   * the queue batch's start), read from `clock` once at its start: every step of one unit sees
   * the same time.
   */
  now: Date;
  /** Work that may finish after the response / the handler (detached when there is no execution context). */
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Runs `promise` to its end without an execution context (a direct call in a test). */
export const detached = (promise: Promise<unknown>) => void promise.catch(() => {});

/**
 * The context of a cron tick or a queue batch (requests build theirs in app.ts): the system clock
 * unless `clock` is given, `now` read from it once (or the tick's `now`), and the execution
 * context's waitUntil when there is one.
 */
export function serviceContext(
  env: Env,
  opts: { clock?: Clock; now?: Date; waitUntil?: (promise: Promise<unknown>) => void; log?: Logger } = {},
): ServiceContext {
  const clock = opts.clock ?? systemClock;
  return {
    env,
    db: createDb(env.DB),
    config: getConfig(env),
    clock,
    log: opts.log ?? rootLog,
    now: opts.now ?? clock.now(),
    waitUntil: opts.waitUntil ?? detached,
  };
}

/** waitUntil of an execution context, or running detached when there is none (a direct call in a test). */
export function waitUntilOf(executionCtx: { waitUntil(promise: Promise<unknown>): void } | undefined): (promise: Promise<unknown>) => void {
  return executionCtx ? (promise) => executionCtx.waitUntil(promise) : detached;
}

/** Built once per request by middleware (`c.var.ctx`); `now` is the request's instant. */
export interface RequestContext extends ServiceContext {
  /** Generated per request; never taken from the client. */
  requestId: string;
  /** The client's own X-Request-Id / X-Correlation-Id, sanitised; kept apart from `requestId`. */
  correlationId: string | null;
  /** Client IP (`CF-Connecting-IP`, set by Cloudflare's edge and not forgeable behind it). */
  ip: string;
  userAgent: string;
  /** Country and city from `request.cf` (set by Cloudflare's edge), when known. */
  geo: Geo;
  /** Runs `work` and records its duration under `name` in the `Server-Timing` header (development only). */
  timed: <T>(name: string, work: () => Promise<T>) => Promise<T>;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    ctx: RequestContext;
  };
}

export type App = OpenAPIHono<AppEnv>;
