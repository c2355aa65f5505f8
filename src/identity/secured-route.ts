import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Actor, OrgKeyActor, UserActor } from "./actor";
import { leastRoleFor, type OrgAction } from "../db/org-roles";
import type { AppEnv } from "../platform/context";
import { AppError } from "../platform/errors";
import { problemResponses } from "../platform/problem";
import { rateLimitWrites } from "../platform/rate-limit";
import type { OrgKeyScope, Scope } from "./scopes";
import { hasPermission, type Permission } from "./grants";
import { authenticateActor, type Prefetch, type SessionRequirement } from "./authenticate";
import { orgKeyMembership, requireMembership, type OrgMembership } from "./membership";
import { idempotent } from "./idempotency";

/** OpenAPI `security` for routes that take an access token or an API key. */
const SECURED: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
/** OpenAPI `security` for routes that take an access token only. */
const SESSION_ONLY: Record<string, string[]>[] = [{ bearer: [] }];
/** OpenAPI `security` for session routes that also take an organization key. */
const SESSION_OR_ORG_KEY: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

interface Common {
  /** A platform permission the user (or the key's owner) must hold through an unexpired role. */
  permission?: Permission;
  /**
   * The organization action the route takes (db/org-roles.ts, ORG_RULES): the actor needs at least
   * its least role in the organization named by the path parameter `orgParam` (default `id`).
   * The handler gets `c.var.membership`, the only key to that organization's rows.
   */
  orgAction?: OrgAction;
  orgParam?: string;
  /**
   * A write that only takes access away (logout, ending a session, revoking an API key): it
   * counts against RATE_WRITES_PER_USER but is never refused by it, so a stolen credential that
   * spends the user's write budget cannot keep the owner from shutting it out.
   */
  neverThrottled?: true;
  /** A read of the handler's, started beside authentication's own reads (authenticate.ts, `Prefetch`). */
  prefetch?: Prefetch;
}

/**
 * Organization API keys (issue 18.6) are refused everywhere (403 `insufficient_scope`) unless the
 * route names `orgKey`: the scope a key must carry, on an `orgAction` route. The key then acts only
 * in its own organization (another id: 404) with the action's least role, and `c.var.actor` may be
 * an `OrgKeyActor` (`c.var.membership.viaKey` is its key id).
 *
 * @example
 * securedRoute({ session: true, orgAction: "members.list", orgKey: "read:members" }, {…})
 */
type OrgKeyAuth = { orgKey?: never } | { orgKey: OrgKeyScope; orgAction: OrgAction };

/** A route for a signed-in person only: API keys are refused (403 `insufficient_scope`). */
export type SessionAuth = Common & SessionRequirement & { session: true; scope?: never } & OrgKeyAuth;
/** A route that also takes an API key carrying `scope`. */
export type ScopedAuth = Common & { scope: Scope; session?: never } & OrgKeyAuth;
export type Auth = SessionAuth | ScopedAuth;

type PersonFor<A extends Auth> = A extends { scope: Scope } ? Actor : UserActor;
type ActorFor<A extends Auth> = A extends { orgKey: OrgKeyScope } ? PersonFor<A> | OrgKeyActor : PersonFor<A>;
type VariablesFor<A extends Auth> = { actor: ActorFor<A> } & (A extends { orgAction: OrgAction } ? { membership: OrgMembership } : unknown);

type Spec = Omit<RouteConfig, "security" | "middleware">;

const WRITE_METHODS: ReadonlySet<string> = new Set(["post", "put", "patch", "delete"]);

/**
 * Declares a secured route once: the OpenAPI `security` and its 401/403/404/429 problem
 * responses, and the middleware that enforces exactly that, come from the same `auth` object,
 * so what is documented is what is enforced. The handler's `c.var.actor` is narrowed to the kind
 * of route (`UserActor` for session routes). Every write (POST, PUT, PATCH, DELETE) takes one
 * request from the user's RATE_WRITES_PER_USER budget (an API key spends its owner's) right
 * after authentication, before validation and the handler: 429 `rate_limited` with `Retry-After`.
 *
 * @example
 * const route = securedRoute({ scope: "read:favorites" }, { method: "get", path: `${API}/me/favorites`, responses: {…} });
 * const adminRoute = securedRoute({ session: true, permission: "admin:users" }, {…});
 * const orgRoute = securedRoute({ session: true, orgAction: "invitations.list" }, { path: `${API}/orgs/{id}/invitations`, … });
 */
export function securedRoute<const A extends Auth, const R extends Spec>(auth: A, route: R) {
  const isWrite = WRITE_METHODS.has(route.method);
  const statuses: (401 | 403 | 404 | 429)[] = [
    401,
    403,
    ...(auth.scope || auth.orgKey || (isWrite && !auth.neverThrottled) ? [429 as const] : []),
    ...(auth.orgAction ? [404 as const] : []),
  ];
  const middleware: MiddlewareHandler<AppEnv & { Variables: VariablesFor<A> }> = async function secured(c, next) {
    const ctx = c.var.ctx;
    const actor = await authenticateActor(
      ctx,
      { authorization: c.req.header("Authorization"), apiKey: c.req.header("X-API-Key"), set: (k, v) => c.header(k, v) },
      auth,
    );
    const vars = c as unknown as { set(key: string, value: unknown): void };
    if (actor.kind === "orgKey") {
      // Only reached when the route names `orgKey` (and so `orgAction`); the key's own hourly limit
      // stands in for the per-user write budget.
      vars.set("actor", actor);
      vars.set("membership", orgKeyMembership(actor, c.req.param(auth.orgParam ?? "id") ?? "", leastRoleFor(auth.orgAction!)));
      if (route.method === "post") return idempotent(ctx, c, actor, next);
      return next();
    }
    if (isWrite) await rateLimitWrites(ctx, actor.userId, { refuse: !auth.neverThrottled });
    if (auth.permission && !(await hasPermission(ctx, actor, auth.permission))) {
      throw new AppError("forbidden", `This needs the ${auth.permission} permission`);
    }
    vars.set("actor", actor);
    if (auth.orgAction) {
      const orgId = c.req.param(auth.orgParam ?? "id");
      if (!orgId) throw new AppError("not_found", "Organization not found");
      vars.set("membership", await requireMembership(ctx, actor, orgId, leastRoleFor(auth.orgAction)));
    }
    // Every POST honours Idempotency-Key, per caller (identity/idempotency.ts).
    if (route.method === "post") return idempotent(ctx, c, actor, next);
    await next();
  };
  return createRoute({
    ...route,
    security: auth.scope ? SECURED : auth.orgKey ? SESSION_OR_ORG_KEY : SESSION_ONLY,
    middleware: [middleware] as const,
    responses: { ...problemResponses(...statuses), ...route.responses } as R["responses"] & ReturnType<typeof problemResponses<401 | 403>>,
  });
}
