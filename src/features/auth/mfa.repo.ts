import type { Owner } from "../../identity/owner";
import { and, eq, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import { mfaBackupCodes, mfaTotp } from "../../db/tables";
import { insertIf, type Db } from "../../platform/db";
import { newId } from "../../platform/ids";

/** A user's TOTP secret and backup codes; every statement carries the owner. */
export function mfaRepo(db: Db, userId: Owner) {
  const mine = eq(mfaTotp.userId, userId);
  return {
    get: () => db.select().from(mfaTotp).where(mine).get(),
    /** A new pending (not yet enabled) secret replaces any pending one. Enabled secrets are untouched. */
    setPending: (secretEncrypted: string, now: Date) =>
      db
        .insert(mfaTotp)
        .values({ userId, secretEncrypted, enabled: false, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: mfaTotp.userId,
          set: { secretEncrypted, enabled: false, lastUsedStep: null, updatedAt: now },
          setWhere: eq(mfaTotp.enabled, false),
        }),
    /**
     * Accepts time step `step` once: a guarded update that fails when this or a later step was
     * already used, so a code cannot be replayed within its window.
     */
    useStep: (step: number, enabled: boolean, now: Date) =>
      db
        .update(mfaTotp)
        .set({ lastUsedStep: step, updatedAt: now })
        .where(and(mine, eq(mfaTotp.enabled, enabled), or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step))))
        .returning({ userId: mfaTotp.userId }),
    /**
     * Enables the pending secret, spending time step `step`, in one guarded statement: only when
     * the stored secret is still `secretEncrypted`, the one the code was verified against (a
     * concurrent /totp/setup cannot swap it), and the step was not used. No row back = not enabled.
     */
    enableVerified: (secretEncrypted: string, step: number, now: Date) =>
      db
        .update(mfaTotp)
        .set({ enabled: true, enabledAt: now, lastUsedStep: step, updatedAt: now })
        .where(
          and(
            mine,
            eq(mfaTotp.enabled, false),
            eq(mfaTotp.secretEncrypted, secretEncrypted),
            or(isNull(mfaTotp.lastUsedStep), lt(mfaTotp.lastUsedStep, step)),
          ),
        )
        .returning({ userId: mfaTotp.userId }),
    /** SQL condition: `enableVerified(secretEncrypted, …, now)` applied (for the rest of its batch). */
    enabledBy: (secretEncrypted: string, now: Date) =>
      sql`EXISTS (SELECT 1 FROM ${mfaTotp} WHERE ${mfaTotp.userId} = ${userId} AND ${mfaTotp.enabled} = 1 AND ${mfaTotp.secretEncrypted} = ${secretEncrypted} AND ${mfaTotp.enabledAt} = ${now.getTime()})`,
    remove: () => db.delete(mfaTotp).where(mine),
    replaceBackupCodes: (codeHashes: string[], now: Date) => [
      db.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId)),
      db
        .insert(mfaBackupCodes)
        .values(codeHashes.map((codeHash) => ({ id: newId("bkc", now.getTime()), userId, codeHash, createdAt: now }))),
    ] as const,
    /** Like `replaceBackupCodes`, but only when `condition` holds at that point of the batch. */
    replaceBackupCodesIf: (codeHashes: string[], now: Date, condition: SQL) => [
      db.delete(mfaBackupCodes).where(and(eq(mfaBackupCodes.userId, userId), condition)),
      ...codeHashes.map((codeHash) => insertIf(db, mfaBackupCodes, { id: newId("bkc", now.getTime()), userId, codeHash, createdAt: now }, condition)),
    ],
    removeBackupCodes: () => db.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId)),
    /** The TOTP secret and every backup code, only when `condition` holds (admin reset-factors). */
    removeAllIf: (condition: SQL) =>
      [db.delete(mfaTotp).where(and(mine, condition)), db.delete(mfaBackupCodes).where(and(eq(mfaBackupCodes.userId, userId), condition))] as const,
    /** Spends a backup code once (guarded update). */
    useBackupCode: (codeHash: string, now: Date) =>
      db
        .update(mfaBackupCodes)
        .set({ usedAt: now })
        .where(and(eq(mfaBackupCodes.userId, userId), eq(mfaBackupCodes.codeHash, codeHash), isNull(mfaBackupCodes.usedAt)))
        .returning({ id: mfaBackupCodes.id }),
  };
}
