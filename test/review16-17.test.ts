import { describe, expect, it } from "vitest";
import {
  call,
  expectProblem,
  json,
  randomIp,
  signedInUser,
  STRONG_PASSWORD,
  tokenFromMail,
  unique,
  waitForMail,
} from "./helpers/harness";
import { addPasskey, SoftAuthenticator } from "./helpers/webauthn";

// Adversarial review of the sign-in surfaces of issues 16 and 17 (passkeys, email codes and links,
// step-up, OpenID sign-in and linking, organization SSO domains). Every test here states the
// behaviour that SHOULD hold and failed on main when it was written (see the review report).

/** The 6-digit code and link token of the newest sign-in code mail to `to`. */
async function codeMail(to: string, after: number) {
  const mail = await waitForMail(to, "email_code", { after });
  const code = /sign-in code is (\d{6})/.exec(mail.text)?.[1];
  expect(code).toBeDefined();
  return { code: code!, token: tokenFromMail(mail) };
}

async function sendCode(email: string) {
  const before = Date.now() - 1;
  expect((await call("auth/email-code/send", { body: { email }, ip: randomIp() })).status).toBe(202);
  return codeMail(email, before);
}

const verifyCode = (body: Record<string, unknown>) => call("auth/email-code/verify", { body, ip: randomIp() });


describe("finding 4: a sign-in code or link sent to the old address dies when the address changes", () => {
  async function codeThenEmailChange() {
    const { user, token } = await signedInUser();
    const old = await sendCode(user.email);
    const newEmail = `${unique("moved")}@example.com`;
    expect((await call("me/email", { body: { new_email: newEmail }, token })).status).toBe(202);
    const verified = await call("auth/verify-email", { body: { token: tokenFromMail(await waitForMail(newEmail, "email_change")) } });
    expect(verified.status, await verified.clone().text()).toBe(200);
    return { user, old, newEmail };
  }

  it("the old mailbox's link token no longer signs in after the email change", async () => {
    const { old } = await codeThenEmailChange();
    await expectProblem(await verifyCode({ token: old.token }), 401, "invalid_credentials");
  });

  it("a password-reset link sent to the old address no longer sets a password after the email change (pre-existing, same root cause)", async () => {
    const { user, token } = await signedInUser();
    const before = Date.now() - 1;
    expect((await call("auth/password/forgot", { body: { email: user.email } })).status).toBe(202);
    const reset = tokenFromMail(await waitForMail(user.email, "password_reset", { after: before }));
    const newEmail = `${unique("moved")}@example.com`;
    expect((await call("me/email", { body: { new_email: newEmail }, token })).status).toBe(202);
    expect((await call("auth/verify-email", { body: { token: tokenFromMail(await waitForMail(newEmail, "email_change")) } })).status).toBe(200);
    // Whoever still reads the old mailbox must not be able to take the account over.
    const res = await call("auth/password/reset", { body: { token: reset, new_password: `${STRONG_PASSWORD}-Old-Mailbox-7` } });
    expect(res.status).not.toBe(204);
  });

  it("the old mailbox's code no longer signs in (with the new address) after the email change", async () => {
    const { old, newEmail } = await codeThenEmailChange();
    await expectProblem(await verifyCode({ email: newEmail, code: old.code }), 401, "invalid_credentials");
  });
});

describe("finding 8: a passkey name is plain text (it is put into the 'passkey added' email)", () => {
  it("registering or renaming a passkey with a link in its name → 422 validation_failed", async () => {
    const { token } = await signedInUser();
    const authenticator = new SoftAuthenticator();
    const opts = await json<{ challenge_id: string; challenge: string; rp: { id: string }; user: { id: string } }>(await call("auth/passkeys/register/options", { method: "POST", token }));
    const response = await authenticator.create(opts);
    const phishy = "Not you? Undo at www.keel-support.example";
    await expectProblem(await call("auth/passkeys/register/verify", { body: { challenge_id: opts.challenge_id, response, name: phishy }, token }), 422, "validation_failed");
    const passkey = await addPasskey(token, new SoftAuthenticator());
    await expectProblem(await call(`me/passkeys/${passkey.id}`, { method: "PATCH", body: { name: phishy }, token }), 422, "validation_failed");
  });
});

// ─── 9. Passkey options with an email tell accounts with passkeys from unknown emails ───────

describe("finding 9: passkey login options for an email do not tell whether it has an account", () => {
  it("the allowCredentials of an account with one passkey and of an unknown email look alike (same fields, same transports, same id length)", async () => {
    const { user, token } = await signedInUser();
    await addPasskey(token, new SoftAuthenticator());
    type Allowed = { id: string; type: string; transports?: string[] }[];
    const opts = async (email: string) =>
      (await json<{ allowCredentials: Allowed }>(await call("auth/passkeys/login/options", { body: { email }, ip: randomIp() }))).allowCredentials;
    const shape = (a: Allowed) => a.map((c) => ({ keys: Object.keys(c).sort(), type: c.type, transports: c.transports ?? null, idLength: c.id.length }));
    const known = await opts(user.email);
    const unknown = await opts(`${unique("nobody")}@example.com`);
    expect(shape(known)).toEqual(shape(unknown));
  });
});
