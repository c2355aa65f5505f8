/**
 * The stored "hash" of an account without a password: created by an administrator or an import
 * without a hash, or registered passwordless (passkey, email code, OpenID sign-in). It is not a hash
 * format, so every password fails against it: verifyPassword never matches an unknown format and
 * spends a dummy verification instead, so neither the answer nor its time tells such an account
 * from a missing one. `users.password_hash` stays NOT NULL because making it nullable would rebuild
 * the users table, which on D1 cascades deletes into every child table.
 */
export const NO_PASSWORD = "!no-password";

/** Whether a stored hash is a real password (not the `NO_PASSWORD` marker). */
export const hasPassword = (passwordHash: string): boolean => passwordHash !== NO_PASSWORD;
