import { describe, expect, it } from "vitest";
import { grantRole } from "./helpers/fixtures";
import { call, expectProblem, signedInUser } from "./helpers/harness";

// The Actor carries effective permissions; a write:tenders key needs admin:system at creation.
describe("effective permissions", () => {
  it("an expired role grants nothing, with no job needed", async () => {
    const { user, token } = await signedInUser();
    await grantRole(user.id, "admin", Date.now() - 1000);
    await expectProblem(await call("me/api-keys", { body: { name: "ingest", scopes: ["write:tenders"] }, token }), 403, "forbidden");
  });

  it("a role that expires later grants now, and a role granted directly in D1 counts at once (denials re-read D1)", async () => {
    const { user, token } = await signedInUser();
    // Warm the per-isolate access cache with the user's grants before the role exists.
    await expectProblem(await call("me/api-keys", { body: { name: "ingest", scopes: ["write:tenders"] }, token }), 403, "forbidden");
    await grantRole(user.id, "admin", Date.now() + 3_600_000);
    expect((await call("me/api-keys", { body: { name: "ingest", scopes: ["write:tenders"] }, token })).status).toBe(201);
  });
});
