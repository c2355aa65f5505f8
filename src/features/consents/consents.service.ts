import { ownerOf, type Owner } from "../../identity/owner";
import { runBatch } from "../../platform/db";
import type { UserActor } from "../../identity/actor";
import type { RequestContext } from "../../platform/context";
import { AppError, type FieldError } from "../../platform/errors";
import type { Db } from "../../platform/db";
import { accessChanged } from "../../identity/grants";
import { auditInsert } from "../../audit/audit.repo";
import { consentInserts } from "./consents.repo";
import type { ConsentKind } from "../../db/tables";

type Versions = { TERMS_VERSION: string; PRIVACY_VERSION: string };

/** The configured (tracked) documents: kind → current version. Empty configuration = none. */
export function trackedDocuments(config: Versions): { kind: ConsentKind; version: string; field: string }[] {
  return [
    ...(config.TERMS_VERSION ? [{ kind: "terms" as const, version: config.TERMS_VERSION, field: "terms" }] : []),
    ...(config.PRIVACY_VERSION ? [{ kind: "privacy" as const, version: config.PRIVACY_VERSION, field: "privacy" }] : []),
  ];
}

/**
 * Registration: with TERMS_VERSION / PRIVACY_VERSION set, `terms_accepted: true` and
 * `privacy_accepted: true` are required (422 otherwise); returns the consent rows and audit entry
 * for the registration batch (the current versions, accepted now).
 */
export function registrationConsents(ctx: RequestContext, db: Db, userId: Owner, input: { terms_accepted?: boolean; privacy_accepted?: boolean }) {
  const docs = trackedDocuments(ctx.config);
  const errors: FieldError[] = docs
    .filter((d) => (d.kind === "terms" ? input.terms_accepted : input.privacy_accepted) !== true)
    .map((d) => ({ path: `${d.field}_accepted`, message: `Accept the ${d.kind === "terms" ? "terms of service" : "privacy policy"} (version ${d.version})` }));
  if (errors.length) throw new AppError("validation_failed", "The terms of service and privacy policy must be accepted", { errors });
  if (docs.length === 0) return [];
  return [
    ...consentInserts(db, userId, docs, ctx.ip, ctx.now),
    auditInsert(db, ctx, { userId, action: "user.consent_recorded", details: Object.fromEntries(docs.map((d) => [`${d.kind}_version`, d.version])) }),
  ];
}

/**
 * POST /me/consents: records the acceptance of the configured versions. Each given version must
 * be the configured one (422 otherwise); a tracked document must be named. 422 when nothing is tracked.
 */
export async function recordConsents(ctx: RequestContext, actor: UserActor, input: { terms_version?: string; privacy_version?: string }): Promise<void> {
  const docs = trackedDocuments(ctx.config);
  if (docs.length === 0) throw new AppError("validation_failed", "This deployment does not track terms or privacy policy acceptance");
  const errors: FieldError[] = [];
  for (const [kind, given, configured] of [
    ["terms", input.terms_version, ctx.config.TERMS_VERSION],
    ["privacy", input.privacy_version, ctx.config.PRIVACY_VERSION],
  ] as const) {
    if (configured && given !== configured) errors.push({ path: `${kind}_version`, message: `The current ${kind} version is ${configured}` });
    else if (!configured && given !== undefined) errors.push({ path: `${kind}_version`, message: `No ${kind} version is tracked here` });
  }
  if (errors.length) throw new AppError("validation_failed", "Accept exactly the current versions", { errors });
  await runBatch(ctx, [
    ...consentInserts(ctx.db, ownerOf(actor), docs, ctx.ip, ctx.now),
    auditInsert(ctx.db, ctx, { userId: actor.userId, action: "user.consent_recorded", details: Object.fromEntries(docs.map((d) => [`${d.kind}_version`, d.version])) }),
  ]);
  accessChanged(actor.userId);
}
