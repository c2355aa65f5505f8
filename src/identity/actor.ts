import { ORG_ROLES, orgRoleAtLeast, type OrgRole } from "../db/org-roles";

export { ORG_ROLES, orgRoleAtLeast, type OrgRole };

/**
 * What a user may do, resolved once per request by authentication: effective platform roles and
 * permissions (expired role assignments excluded) and organization memberships.
 */
export interface Access {
  /** Effective role names, the implicit `user` first. */
  roles: readonly string[];
  permissions: ReadonlySet<string>;
  /** Organization id → the user's role in it. */
  memberships: ReadonlyMap<string, OrgRole>;
  /** The latest terms / privacy versions the user accepted (null: never). */
  consents: { readonly terms: string | null; readonly privacy: string | null };
}

/** A person signed in with an access token: the session is known. */
export interface UserActor {
  kind: "user";
  userId: string;
  sessionId: string;
  /** The access token said the password had expired when it was issued. */
  passwordExpired: boolean;
  /** The access token's `auth_time` (seconds): when the user last proved who they are (see recent-auth.ts). */
  authTime: number;
  access: Access;
}

/** An integrator's API key: it acts as its owner, within its scopes. */
export interface ApiKeyActor {
  kind: "apiKey";
  userId: string;
  keyId: string;
  scopes: ReadonlySet<string>;
  access: Access;
}

/**
 * An organization's API key (issue 18.6): it belongs to the organization, not to a person, and acts
 * only inside that organization, on the routes that admit organization keys with one of its scopes
 * (securedRoute's `orgKey`). It is not an `Actor`: every route that does not name `orgKey` refuses
 * it (403 `insufficient_scope`) before its handler runs, so no user route ever sees one.
 */
export interface OrgKeyActor {
  kind: "orgKey";
  orgId: string;
  keyId: string;
  scopes: ReadonlySet<string>;
}

/** Who is calling. Only authentication builds one; services take it to scope every query. */
export type Actor = UserActor | ApiKeyActor;

/**
 * Why the platform acts with no caller:
 * - `cron`: a scheduled job working through every user's rows;
 * - `queue`: a queue consumer handling a message (alert matching, email delivery);
 * - `token-link`: an emailed link whose signed or single-use token names the user (unsubscribe).
 */
export type SystemActorReason = "cron" | "queue" | "token-link";

/**
 * The platform itself acting on behalf of users, with no authenticated caller: it carries no
 * access (no roles, no scopes) and states why it acts. Built with `systemActor(reason)`; an audit
 * row it writes has no actor id and names the reason instead of a request id.
 */
export interface SystemActor {
  kind: "system";
  reason: SystemActorReason;
}

export const systemActor = (reason: SystemActorReason): SystemActor => ({ kind: "system", reason });

/** Anyone a service may act as: an authenticated caller, or the platform with its reason. */
export type AnyActor = Actor | SystemActor;
