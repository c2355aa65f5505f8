import type { Owner } from "../../identity/owner";
import { userConsents } from "../../db/tables";
import type { Db } from "../../platform/db";
import { newId } from "../../platform/ids";
import type { ConsentKind } from "../../db/tables";

/** Acceptances of one user, as inserts for the caller's batch (append-only history). */
export function consentInserts(db: Db, userId: Owner, accepted: readonly { kind: ConsentKind; version: string }[], ip: string | null, now: Date) {
  return accepted.map((c) => db.insert(userConsents).values({ id: newId("cns", now.getTime()), userId, kind: c.kind, version: c.version, acceptedAt: now, ip }));
}
