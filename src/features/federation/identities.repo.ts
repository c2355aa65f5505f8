import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { userIdentities } from "../../db/tables";
import type { Owner } from "../../identity/owner";
import { otherWayToSignIn as anyOtherWay } from "../../identity/sign-in-methods.repo";
import { insertIf, type Db } from "../../platform/db";

export interface NewIdentity {
  userId: string;
  providerId: string;
  issuer: string;
  subject: string;
  email: string | null;
}

/** Whether the user keeps a way to sign in once identity `exceptIdentityId` is gone (identity/sign-in-methods.repo.ts: password, passkeys, identities). */
export const otherWayToSignIn = (userId: string, exceptIdentityId: string) => anyOtherWay(userId, { identityId: exceptIdentityId });

/** External identities (issuer + subject) and the one user each signs in to. */
export const identitiesRepo = (db: Db) => ({
  /** Links an identity; an identity linked already (to anyone) is left as it is. */
  insertIfNew: (id: string, v: NewIdentity, now: Date) => db.insert(userIdentities).values({ id, ...v, createdAt: now, lastUsedAt: null }).onConflictDoNothing(),
  /**
   * Links an identity from My account, only while `condition` holds (the session that started the
   * link is still live) and the identity is linked to nobody: one guarded statement.
   */
  insertIfNewWhile: (id: string, v: NewIdentity, now: Date, condition: SQL) =>
    insertIf(
      db,
      userIdentities,
      { id, ...v, createdAt: now, lastUsedAt: null },
      and(condition, sql`NOT EXISTS (SELECT 1 FROM ${userIdentities} x WHERE x.issuer = ${v.issuer} AND x.subject = ${v.subject})`)!,
    ),
  /** Links an identity in a batch that must fail as a whole when it is linked already. */
  insert: (id: string, v: NewIdentity, now: Date) => db.insert(userIdentities).values({ id, ...v, createdAt: now, lastUsedAt: now }),

  byIssuerSubject: (issuer: string, subject: string) =>
    db
      .select()
      .from(userIdentities)
      .where(and(eq(userIdentities.issuer, issuer), eq(userIdentities.subject, subject)))
      .get(),

  touch: (id: string, now: Date) => db.update(userIdentities).set({ lastUsedAt: now }).where(eq(userIdentities.id, id)),

  listOf: (userId: Owner) => db.select().from(userIdentities).where(eq(userIdentities.userId, userId)).orderBy(desc(userIdentities.createdAt)).all(),

  /** Removes one of the user's identities unless it is the last way to sign in (for a batch; returns the removed row). */
  removeIfNotLast: (userId: Owner, id: string) =>
    db
      .delete(userIdentities)
      .where(and(eq(userIdentities.id, id), eq(userIdentities.userId, userId), otherWayToSignIn(userId, id)))
      .returning(),

  exists: (userId: Owner, id: string) =>
    db
      .select({ id: userIdentities.id })
      .from(userIdentities)
      .where(and(eq(userIdentities.id, id), eq(userIdentities.userId, userId)))
      .get(),
});

export const identityLinkedTo = (identityId: string, userId: string) =>
  sql`EXISTS (SELECT 1 FROM user_identities AS i WHERE i.id = ${identityId} AND i.user_id = ${userId})`;

/** The condition under which `removeIfNotLast` removes: for the audit row in the same batch. */
export const removableIdentity = (userId: string, id: string) =>
  sql`(EXISTS (SELECT 1 FROM user_identities AS i WHERE i.id = ${id} AND i.user_id = ${userId}) AND ${otherWayToSignIn(userId, id)})`;
