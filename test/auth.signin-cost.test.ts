import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, randomIp, STRONG_PASSWORD } from "./helpers/harness";

const newEmail = () => `signin-cost-${crypto.randomUUID()}@example.com`;

// Registration answers from the values it wrote (no SELECT after its batch): the answer must be
// what the stored row says.
describe("registration's answer without a read-back", () => {
  it("is the stored row, with the column defaults and the implicit role", async () => {
    const email = newEmail();
    const res = await call("auth/register", { body: { email, password: STRONG_PASSWORD, full_name: "Row Check", phone: "+919876543210" }, ip: randomIp() });
    expect(res.status).toBe(201);
    const { user } = await json<{ user: Record<string, unknown> }>(res);
    const row = await env.DB.prepare("SELECT id, email, email_verified, full_name, phone, status, account_type, two_factor_enabled, created_at, last_login_at FROM users WHERE id = ?")
      .bind(user.id)
      .first<Record<string, number | string | null>>();
    expect(user).toEqual({
      id: row!.id,
      email: row!.email,
      email_verified: row!.email_verified === 1,
      full_name: row!.full_name,
      phone: row!.phone,
      status: row!.status,
      account_type: row!.account_type,
      two_factor_enabled: row!.two_factor_enabled === 1,
      roles: ["user"],
      created_at: new Date(Number(row!.created_at)).toISOString(),
      last_login_at: null,
    });
  });
});
