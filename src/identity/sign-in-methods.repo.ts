import { sql, type SQL } from "drizzle-orm";
import { NO_PASSWORD } from "./sign-in-methods";

/**
 * THE "last way to sign in" rule, one SQL condition for every remover (a passkey, a linked
 * identity): whether the user keeps a way in once `except` is gone. The ways are exactly those of
 * issue 16: a password (not the NO_PASSWORD marker), a passkey, a linked OpenID identity. An
 * emailed code is not counted, even with PASSWORDLESS_EMAIL on: it is a recovery channel that an
 * operator may switch off, and then the account would be locked out. The caller puts the
 * condition in its guarded DELETE (and in the audit row's insert of the same batch), so two
 * concurrent removals cannot both pass. Aliased subqueries: it stays correct inside a
 * delete from the passkeys or user_identities table itself.
 */
export const otherWayToSignIn = (userId: string, except: { passkeyId?: string; identityId?: string }): SQL => sql`(
  EXISTS (SELECT 1 FROM users AS way_u WHERE way_u.id = ${userId} AND way_u.password_hash <> ${NO_PASSWORD} AND way_u.password_hash <> '')
  OR EXISTS (SELECT 1 FROM passkeys AS way_p WHERE way_p.user_id = ${userId} AND way_p.id <> ${except.passkeyId ?? ""})
  OR EXISTS (SELECT 1 FROM user_identities AS way_i WHERE way_i.user_id = ${userId} AND way_i.id <> ${except.identityId ?? ""})
)`;
