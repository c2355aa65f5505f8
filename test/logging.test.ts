import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { call, expectProblem, randomIp, STRONG_PASSWORD, unique } from "./helpers/harness";

// Issue 10, point 12: logs hold no personal data or secrets. drizzle's query errors carry the
// bound parameters (here: the email) in their message and stack.
describe("error logs", () => {
  it("a failed query is logged with its SQL but without its bound parameters", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const email = `${unique("logged")}@example.com`;
    // A real failure of the real D1: a table the user lookup joins is briefly missing.
    await env.DB.prepare("ALTER TABLE user_roles RENAME TO user_roles_away").run();
    try {
      const res = await call("auth/login", { body: { email, password: STRONG_PASSWORD }, ip: randomIp() });
      await expectProblem(res, 500, "internal_error");
      const logged = errors.mock.calls.map((c) => c.map(String).join(" ")).join("\n");
      expect(logged).toContain("Failed query");
      expect(logged).toContain("user_roles");
      expect(logged).not.toContain(email);
    } finally {
      await env.DB.prepare("ALTER TABLE user_roles_away RENAME TO user_roles").run();
      errors.mockRestore();
    }
  });
});
