import { describe, expect, it } from "vitest";
import type { favoritesRepo } from "../../src/features/favorites/favorites.repo";
import type { endSessions } from "../../src/features/sessions/sessions.service";
import type { UserActor } from "../../src/identity/actor";
import { ownerOf, systemOwner } from "../../src/identity/owner";
import type { Db } from "../../src/platform/db";

// Type-level: `tsc --noEmit` checks this function (never called). Each @ts-expect-error fails the
// typecheck if the line below it ever compiles, i.e. if a bare id could scope a repo again.
export function ownerIsMintedOnlyByIdentity(repo: typeof favoritesRepo, end: typeof endSessions, db: Db, actor: UserActor) {
  repo(db, ownerOf(actor));
  repo(db, systemOwner("usr_1", "cron"));
  // @ts-expect-error a bare id is not an owner
  repo(db, "usr_1");
  // @ts-expect-error nor is the actor's id: services pass ownerOf(actor)
  repo(db, actor.userId);
  // @ts-expect-error services scope sessions through an owner too
  void end(undefined as never, actor.userId, {}, "logout", null);
  // @ts-expect-error systemOwner names one of identity's reasons
  systemOwner("usr_1", "because");
}

describe("Owner", () => {
  it("is the user's id at runtime: scoping does not change a query", () => {
    const actor = { kind: "user", userId: "usr_1", sessionId: "ses_1", passwordExpired: false } as UserActor;
    expect(ownerOf(actor)).toBe("usr_1");
    expect(systemOwner("usr_2", "token-link")).toBe("usr_2");
  });
});
