import type { MiddlewareHandler } from "hono";
import type { StatusCode } from "hono/utils/http-status";
import { createRouter } from "./app-factory";
import type { App, AppEnv } from "./context";
import { onError } from "./problem";

/**
 * A route group loaded on first use (issue 20, point 3: a lean cold start). `match` lists path
 * patterns, segment by segment (`*` = any one segment); a pattern matches a path that starts with
 * its segments, or exactly equals them when it ends with `$`. `load` imports the feature's
 * register function(s) through a dynamic import(), so the feature's code is its own module,
 * evaluated by the first request under one of its patterns.
 */
export interface LazyGroup {
  name: string;
  match: readonly string[];
  load: () => Promise<(app: App) => void>;
  /**
   * The hot path (GET /me): its module is imported statically and its router is built while the
   * isolate starts (`buildStartupGroups`), so the first request after a restart pays neither.
   */
  startup?: true;
}

function compile(pattern: string): (segments: string[]) => boolean {
  const exact = pattern.endsWith("$");
  const want = (exact ? pattern.slice(0, -1) : pattern).split("/").filter(Boolean);
  return (segments) => {
    if (exact ? segments.length !== want.length : segments.length < want.length) return false;
    for (let i = 0; i < want.length; i++) if (want[i] !== "*" && want[i] !== segments[i]) return false;
    return true;
  };
}

/** Whether `path` is one of the group's (exported for the test that checks every route is reachable). */
export function groupMatches(group: Pick<LazyGroup, "match">, path: string): boolean {
  const segments = path.split("/").filter(Boolean);
  return group.match.some((p) => compile(p)(segments));
}

/** What the parent request hands to the group's sub-app: its variables (ctx, requestId, …). */
interface Handoff {
  vars: Record<string, unknown>;
  missed: boolean;
}
const handoffs = new WeakMap<Request, Handoff>();

/**
 * The group's own router: Hono's router takes no route after its first match, so a group loaded
 * later is a sub-app with the same error handling; it starts from the parent's variables and
 * reports "no route here" to the parent (which then offers the request to the next group, then
 * answers its own 404).
 */
function subApp(register: (app: App) => void): App {
  const app = createRouter();
  app.use(async (c, next) => {
    const handoff = handoffs.get(c.req.raw);
    if (handoff) for (const [k, v] of Object.entries(handoff.vars)) c.set(k as never, v as never);
    await next();
  });
  register(app);
  app.notFound((c) => {
    const handoff = handoffs.get(c.req.raw);
    if (handoff) handoff.missed = true;
    return c.body(null, 404);
  });
  app.onError(onError);
  return app;
}

/** Per group (the table entry), its sub-app once imported: a memo, not a cache (nothing expires). */
const loaded = new WeakMap<LazyGroup, Promise<App>>();

/** The group's sub-app, built once per isolate (a failed import is retried by the next request). */
export function groupApp(group: LazyGroup): Promise<App> {
  let app = loaded.get(group);
  if (!app) {
    app = group.load().then(subApp);
    app.catch(() => loaded.delete(group));
    loaded.set(group, app);
  }
  return app;
}

/**
 * Builds the routers of the `startup` groups at module evaluation (no I/O: route registration
 * only). A failure here is retried, and reported, by the first request of the group.
 */
export function buildStartupGroups(groups: readonly LazyGroup[]): void {
  for (const group of groups) if (group.startup) groupApp(group).catch(() => undefined);
}

/** Every group's sub-app, in table order (the OpenAPI document merges their registries). */
export function allGroupApps(groups: readonly LazyGroup[]): Promise<App[]> {
  return Promise.all(groups.map(groupApp));
}

/**
 * The last middleware of the main app: offers the request, in table order (= route order), to each
 * group whose patterns match its path; the first that has a route answers. None: `next()`, i.e.
 * the main app's own routes, then its notFound.
 */
export function lazyGroups(groups: readonly LazyGroup[]): MiddlewareHandler<AppEnv> {
  const compiled = groups.map((g) => ({ group: g, tests: g.match.map(compile) }));
  return async (c, next) => {
    const segments = c.req.path.split("/").filter(Boolean);
    let executionCtx: Parameters<App["fetch"]>[2];
    try {
      executionCtx = c.executionCtx;
    } catch {
      executionCtx = undefined; // a direct app.request in a unit test
    }
    for (const { group, tests } of compiled) {
      if (!tests.some((t) => t(segments))) continue;
      // The first request of a group times its import and router build (Server-Timing
      // `load-<group>` in development), so a slow cold read says whether loading is the cause.
      const app = loaded.has(group) ? await groupApp(group) : await c.var.ctx.timed(`load-${group.name}`, () => groupApp(group));
      const request = c.req.raw;
      const handoff: Handoff = { vars: c.var as Record<string, unknown>, missed: false };
      handoffs.set(request, handoff);
      const res = await app.fetch(request, c.env, executionCtx);
      handoffs.delete(request);
      if (handoff.missed) continue;
      // A WebSocket upgrade (101) goes back as it is, as when its route ran on the main app.
      if (res.status === 101) return res;
      // Like a response built in the main app's context: with the headers its middleware set
      // before `next()` (X-Request-Id, X-Correlation-Id, …); the route's own headers win.
      return c.newResponse(res.body, { status: res.status as StatusCode, headers: res.headers });
    }
    await next();
  };
}
