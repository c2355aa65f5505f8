import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ts, createdAt, bool, json } from "../columns";
import { users } from "./users";

/** WebAuthn credentials (passkeys) of a user; the public key only, never a secret. */
export const passkeys = sqliteTable(
  "passkeys",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The credential id as the authenticator names it (base64url); unique across users. */
    credentialId: text("credential_id").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    /** The authenticator's signature counter as last seen (0 = the authenticator does not count). */
    counter: integer("counter").notNull().default(0),
    backedUp: bool("backed_up").notNull().default(false),
    /** `singleDevice` or `multiDevice` (synced passkey), from the backup-eligible flag. */
    deviceType: text("device_type", { enum: ["singleDevice", "multiDevice"] }).notNull(),
    transports: json<string[]>("transports").notNull().default([]),
    name: text("name").notNull(),
    aaguid: text("aaguid"),
    createdAt: createdAt(),
    lastUsedAt: ts("last_used_at"),
  },
  (t) => [uniqueIndex("passkeys_credential_id_unique").on(t.credentialId), index("passkeys_user_idx").on(t.userId, t.createdAt)],
);

export const WEBAUTHN_CEREMONIES = ["registration", "authentication"] as const;
export type WebauthnCeremony = (typeof WEBAUTHN_CEREMONIES)[number];

/**
 * Pending WebAuthn challenges: the client holds a random `challenge_id`, only its SHA-256 is the
 * key here. Bound to one ceremony (and, for registration or step-up, one user); spent by one
 * guarded DELETE … RETURNING, so a challenge answers once.
 */
export const webauthnChallenges = sqliteTable(
  "webauthn_challenges",
  {
    idHash: text("id_hash").primaryKey(),
    challenge: text("challenge").notNull(),
    ceremony: text("ceremony", { enum: WEBAUTHN_CEREMONIES }).notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("webauthn_challenges_expires_idx").on(t.expiresAt)],
);
