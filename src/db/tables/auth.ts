import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, updatedAt, bool, json } from "../columns";
import { users } from "./users";

export const passwordHistory = sqliteTable(
  "password_history",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    passwordHash: text("password_hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("password_history_user_idx").on(t.userId, t.createdAt)],
);

/** `email_change` carries `{ new_email }` in `data`; the address moves when its link is used. */
export const ONE_TIME_PURPOSES = ["email_verification", "password_reset", "mfa_login", "email_change"] as const;

export type OneTimePurpose = (typeof ONE_TIME_PURPOSES)[number];

/** Single-use tokens: only their SHA-256 is stored; consuming one is a guarded DELETE … RETURNING. */
export const oneTimeTokens = sqliteTable(
  "one_time_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ONE_TIME_PURPOSES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    data: json<Record<string, unknown>>("data").notNull().default({}),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("one_time_tokens_hash_unique").on(t.tokenHash),
    index("one_time_tokens_user_purpose_idx").on(t.userId, t.purpose),
    index("one_time_tokens_expires_idx").on(t.expiresAt),
  ],
);

export const mfaTotp = sqliteTable("mfa_totp", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** AES-GCM ciphertext of the base32 secret (`v1.<iv>.<ciphertext>`), never the secret itself. */
  secretEncrypted: text("secret_encrypted").notNull(),
  enabled: bool("enabled").notNull().default(false),
  enabledAt: ts("enabled_at"),
  /** Highest 30 s time step accepted; a code of that step or earlier is a replay. */
  lastUsedStep: integer("last_used_step"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const mfaBackupCodes = sqliteTable(
  "mfa_backup_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** HMAC-SHA-256 of the code under a server key. */
    codeHash: text("code_hash").notNull(),
    usedAt: ts("used_at"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("mfa_backup_codes_user_code_unique").on(t.userId, t.codeHash)],
);

/**
 * One-time email sign-in codes (issue 16): at most one live code per user (the primary key; a new
 * send replaces the old). `code_hash` is an HMAC of user id + 6-digit code under a server key, so
 * a code is bound to its user; `token_hash` is the SHA-256 of the emailed `/sign-in` link's token.
 * Spending either deletes the row, so the code and the link are single-use together. `attempts`
 * counts guesses (a guarded UPDATE … RETURNING); at 5 the code is dead.
 */
export const emailCodes = sqliteTable(
  "email_codes",
  {
    userId: text("user_id")
      .primaryKey()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    tokenHash: text("token_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("email_codes_token_unique").on(t.tokenHash), index("email_codes_expires_idx").on(t.expiresAt)],
);
