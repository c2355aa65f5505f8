import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { log, logLine } from "../src/platform/log";
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

describe("the logger", () => {
  it("writes one JSON object per line, { level, msg, ...fields }, on the console method of its level", () => {
    const spies = { log: vi.spyOn(console, "log"), warn: vi.spyOn(console, "warn"), error: vi.spyOn(console, "error") };
    for (const spy of Object.values(spies)) spy.mockImplementation(() => {});
    try {
      log.info("cron done", { count: 3, nested: { sent: 1 }, ids: ["a", "b"] });
      log.with({ request_id: "req_1" }).warn("slow", { ms: 12 });
      log.error("job failed", { job: "x" }, new Error("boom"));
      expect(spies.log.mock.calls).toHaveLength(1);
      expect(spies.log.mock.calls[0]).toHaveLength(1);
      expect(JSON.parse(String(spies.log.mock.calls[0]![0]))).toEqual({ level: "info", msg: "cron done", count: 3, nested: { sent: 1 }, ids: ["a", "b"] });
      expect(JSON.parse(String(spies.warn.mock.calls[0]![0]))).toEqual({ level: "warn", msg: "slow", request_id: "req_1", ms: 12 });
      const error = JSON.parse(String(spies.error.mock.calls[0]![0]));
      expect(error).toMatchObject({ level: "error", msg: "job failed", job: "x", error: "Error: boom" });
      expect(error.stack).toMatch(/^\s+at /);
    } finally {
      for (const spy of Object.values(spies)) spy.mockRestore();
    }
  });

  it("keeps personal data and secrets out: named fields are redacted, addresses anywhere are masked", () => {
    const line = JSON.parse(
      logLine("warn", "mail to ann@example.com failed", {
        email: "ann@example.com",
        to_address: "ann@example.com",
        ip: "203.0.113.9",
        client_ip: "203.0.113.9",
        refresh_token: "rt_secret",
        password: "hunter2",
        nested: { api_token: "x", note: "from bob@example.org" },
        user_id: "usr_1",
      }, new Error("UNIQUE failed for carol@example.net")),
    );
    expect(line).toEqual({
      level: "warn",
      msg: "mail to [email] failed",
      email: "[redacted]",
      to_address: "[redacted]",
      ip: "[redacted]",
      client_ip: "[redacted]",
      refresh_token: "[redacted]",
      password: "[redacted]",
      nested: { api_token: "[redacted]", note: "from [email]" },
      user_id: "usr_1",
      error: "Error: UNIQUE failed for [email]",
    });
  });
});
