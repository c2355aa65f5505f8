import { and, eq, gt, lte } from "drizzle-orm";
import { oidcLoginCodes, oidcStates, type OidcAssertion, type OidcSource } from "../../db/tables";
import { sha256Hex } from "../../platform/crypto";
import type { Db } from "../../platform/db";

/** The pending authorization requests and the one-time login codes of OpenID sign-in. */
export const oidcFlowsRepo = (db: Db) => ({
  insertState: (
    v: { state: string; browser: string; source: OidcSource; nonce: string; codeVerifier: string; returnTo: string; linkUserId: string | null; expiresAt: Date },
    now: Date,
  ) =>
    db.insert(oidcStates).values({
      stateHash: sha256Hex(v.state),
      browserHash: sha256Hex(v.browser),
      source: v.source,
      nonce: v.nonce,
      codeVerifier: v.codeVerifier,
      returnTo: v.returnTo,
      linkUserId: v.linkUserId,
      expiresAt: v.expiresAt,
      createdAt: now,
    }),

  /**
   * Spends a pending request: a guarded DELETE … RETURNING, so a state works once, only within its
   * lifetime, and only from the browser that started it (its cookie).
   */
  async consumeState(state: string, browser: string, now: Date) {
    const rows = await db
      .delete(oidcStates)
      .where(and(eq(oidcStates.stateHash, sha256Hex(state)), eq(oidcStates.browserHash, sha256Hex(browser)), gt(oidcStates.expiresAt, now)))
      .returning();
    return rows[0];
  },

  /** `browserHash`: the state row's, already hashed. */
  insertLoginCode: (code: string, browserHash: string, assertion: OidcAssertion, expiresAt: Date, now: Date) =>
    db.insert(oidcLoginCodes).values({ codeHash: sha256Hex(code), browserHash, assertion, expiresAt, createdAt: now }),

  /** Spends a login code (guarded DELETE … RETURNING): once, within its 60 seconds, from the browser it was issued to. */
  async consumeLoginCode(code: string, browser: string, now: Date) {
    const rows = await db
      .delete(oidcLoginCodes)
      .where(and(eq(oidcLoginCodes.codeHash, sha256Hex(code)), eq(oidcLoginCodes.browserHash, sha256Hex(browser)), gt(oidcLoginCodes.expiresAt, now)))
      .returning({ assertion: oidcLoginCodes.assertion });
    return rows[0]?.assertion;
  },

  /** Removes expired states and login codes (for the cron's purge). */
  purgeExpired: (now: Date) => [db.delete(oidcStates).where(lte(oidcStates.expiresAt, now)), db.delete(oidcLoginCodes).where(lte(oidcLoginCodes.expiresAt, now))] as const,
});
