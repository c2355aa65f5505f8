import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, json, login, mailbox, signedInUser, STRONG_PASSWORD, tokenFromMail, unique, waitForMail } from "./helpers/harness";

const newAddress = () => `${unique("moved")}@example.com`;

describe("POST /me/email → POST /auth/verify-email", () => {
  it("sends a link to the new address; using it moves the account and tells the old address", async () => {
    const { user, token } = await signedInUser();
    const target = newAddress();
    const res = await call("me/email", { token, body: { new_email: ` ${target.toUpperCase()} `, password: user.password } });
    expect(res.status).toBe(202);

    const mail = await waitForMail(target, "email_change");
    expect(mail.text).toMatch(/\/verify-email\?token=/);
    // Nothing changes before the link is used.
    expect((await json<{ email: string }>(await call("me", { token }))).email).toBe(user.email);

    const verified = await call("auth/verify-email", { body: { token: tokenFromMail(mail) } });
    expect(verified.status).toBe(200);
    expect((await json<{ user: { email: string; email_verified: boolean } }>(verified)).user).toMatchObject({ email: target, email_verified: true });

    const notice = await waitForMail(user.email, "email_changed");
    expect(notice.text).toContain("@example.com");
    expect(notice.text).not.toContain(target); // masked

    expect((await json<{ email: string }>(await call("me", { token }))).email).toBe(target);
    await login({ ...user, email: target });
    await expectProblem(await call("auth/login", { body: { email: user.email, password: user.password }, ip: user.ip }), 401, "invalid_credentials");

    const activity = await json<{ items: { action: string; details: Record<string, unknown> }[] }>(await call("me/activity", { token }));
    expect(activity.items.find((e) => e.action === "user.email_changed")?.details).toEqual({ old_email: user.email, new_email: target });

    // The link works once.
    await expectProblem(await call("auth/verify-email", { body: { token: tokenFromMail(mail) } }), 400, "validation_failed");
  });

  it("refuses a wrong password with 401 invalid_credentials and sends nothing", async () => {
    const { token } = await signedInUser();
    const target = newAddress();
    await expectProblem(await call("me/email", { token, body: { new_email: target, password: "not-the-password-at-all" } }), 401, "invalid_credentials");
    expect(await mailbox(target)).toEqual([]);
  });

  it("answers 409 conflict for a taken address, at the request and when the link is used", async () => {
    const { user, token } = await signedInUser();
    const other = await createUser();
    await expectProblem(await call("me/email", { token, body: { new_email: other.email, password: user.password } }), 409, "conflict");

    const target = newAddress();
    expect((await call("me/email", { token, body: { new_email: target, password: user.password } })).status).toBe(202);
    const link = tokenFromMail(await waitForMail(target, "email_change"));
    // Someone registers the address before the link is used.
    expect((await call("auth/register", { body: { email: target, password: STRONG_PASSWORD, full_name: "Squatter" } })).status).toBe(201);
    await expectProblem(await call("auth/verify-email", { body: { token: link } }), 409, "conflict");
    expect((await json<{ email: string }>(await call("me", { token }))).email).toBe(user.email);
    expect((await mailbox(user.email)).map((m) => m.template)).not.toContain("email_changed");
  });

  it("validates the body (same address, malformed address, unknown fields) with 422", async () => {
    const { user, token } = await signedInUser();
    await expectProblem(await call("me/email", { token, body: { new_email: user.email, password: user.password } }), 422, "validation_failed");
    await expectProblem(await call("me/email", { token, body: { new_email: "not-an-email", password: user.password } }), 422, "validation_failed");
    await expectProblem(await call("me/email", { token, body: { new_email: newAddress(), password: user.password, extra: 1 } }), 422, "validation_failed");
  });

  it("only the newest link works", async () => {
    const { user, token } = await signedInUser();
    const first = newAddress();
    const second = newAddress();
    await call("me/email", { token, body: { new_email: first, password: user.password } });
    const oldLink = tokenFromMail(await waitForMail(first, "email_change"));
    await call("me/email", { token, body: { new_email: second, password: user.password } });
    await waitForMail(second, "email_change");
    await expectProblem(await call("auth/verify-email", { body: { token: oldLink } }), 400, "validation_failed");
  });
});
