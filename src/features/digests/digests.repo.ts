import { eq } from "drizzle-orm";
import { userPreferences } from "../../db/schema";
import type { Db } from "../../platform/db";

/** One-click unsubscribe from the digest: frequency `never`. */
export const turnDigestOff = (db: Db, userId: string, now: Date) =>
  db.update(userPreferences).set({ emailDigestFrequency: "never", updatedAt: now }).where(eq(userPreferences.userId, userId)).returning({ userId: userPreferences.userId });

