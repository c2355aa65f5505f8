import { describe, expect, it } from "vitest";
import { auditRows, signedInWithRole } from "./helpers/admin";
import { call, createUser, json, mailbox, randomIp, waitForMail, type TestUser } from "./helpers/harness";

interface SessionOut {
  id: string;
  country: string | null;
  city: string | null;
  current: boolean;
}

const signIn = async (user: TestUser, opts: { cf?: Record<string, unknown>; ua?: string; device?: string } = {}) => {
  const res = await call("auth/login", {
    body: { email: user.email, password: user.password, ...(opts.device ? { device_name: opts.device } : {}) },
    ip: randomIp(),
    headers: { "User-Agent": opts.ua ?? "keel-tests/1.0" },
    cf: opts.cf,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<{ access_token: string; session_id: string }>(res);
};

describe("sign-in locations", () => {
  it("a session made with a cf country and city shows them; a new country is audited, a known one is not", async () => {
    const user = await createUser();
    const first = await signIn(user, { cf: { country: "IN", city: "Patna" } });
    const list = await json<{ items: SessionOut[] }>(await call("me/sessions", { token: first.access_token }));
    expect(list.items.find((s) => s.id === first.session_id)).toMatchObject({ country: "IN", city: "Patna", current: true });
    // A first sign-in ever is not "new".
    expect(await auditRows(user.id, "auth.new_country")).toHaveLength(0);

    // Same country, new device: the new sign-in email names the location and the device.
    const before = Date.now();
    await signIn(user, { cf: { country: "IN", city: "Delhi" }, ua: "Firefox/140 (X11; Linux)", device: "Work laptop" });
    const mail = await waitForMail(user.email, "new_sign_in", { after: before - 1000 });
    expect(mail.text).toContain("Delhi, IN");
    expect(mail.text).toContain("Work laptop");
    expect(await auditRows(user.id, "auth.new_country")).toHaveLength(0);

    // A country never seen before.
    const sg = await signIn(user, { cf: { country: "SG", city: "Singapore" } });
    const audited = await auditRows(user.id, "auth.new_country");
    expect(audited).toHaveLength(1);
    expect(JSON.parse(audited[0]!.details as string)).toMatchObject({ country: "SG", city: "Singapore", session_id: sg.session_id });
    await signIn(user, { cf: { country: "SG", city: "Singapore" } });
    expect(await auditRows(user.id, "auth.new_country")).toHaveLength(1);

    // Without request.cf: no location, nothing audited.
    const none = await signIn(user);
    const all = await json<{ items: SessionOut[] }>(await call("me/sessions", { token: none.access_token }));
    expect(all.items.find((s) => s.id === none.session_id)).toMatchObject({ country: null, city: null });
    expect(await auditRows(user.id, "auth.new_country")).toHaveLength(1);
    expect((await mailbox(user.email)).filter((m) => m.template === "new_sign_in").length).toBeGreaterThanOrEqual(1);

    // The admin view shows where the user signs in from.
    const admin = await signedInWithRole("admin");
    const view = await json<{ sessions: { last_sign_in_country: string | null; countries: string[] } }>(await call(`admin/users/${user.id}`, { token: admin.token }));
    expect(view.sessions.countries).toEqual(["IN", "SG"]);
    expect(view.sessions.last_sign_in_country).toBeNull();
  });
});
