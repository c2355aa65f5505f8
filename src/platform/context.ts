import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Env } from "../env";
import type { Config } from "./config";
import type { Db } from "./db";
import type { Geo } from "./geo";

/** Built once per request by middleware (`c.var.ctx`). */
export interface RequestContext {
  env: Env;
  db: Db;
  config: Config;
  /** Generated per request; never taken from the client. */
  requestId: string;
  /** The client's own X-Request-Id / X-Correlation-Id, sanitised; kept apart from `requestId`. */
  correlationId: string | null;
  /** Client IP (`CF-Connecting-IP`, set by Cloudflare's edge and not forgeable behind it). */
  ip: string;
  userAgent: string;
  /** Country and city from `request.cf` (set by Cloudflare's edge), when known. */
  geo: Geo;
  now: Date;
  waitUntil: (promise: Promise<unknown>) => void;
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
