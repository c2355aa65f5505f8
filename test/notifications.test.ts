import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { insertNotification } from "./helpers/fixtures";
import { call, expectProblem, json, signedInUser } from "./helpers/harness";

interface Page {
  items: { id: string; is_read: boolean; title: string }[];
  next_cursor: string | null;
  unread_count: number;
}

async function notify(userId: string, title: string, opts: { read?: boolean; expiresAt?: number | null; at?: number } = {}) {
  const at = opts.at ?? Date.now();
  return insertNotification(userId, { title, is_read: opts.read ?? false, created_at: at, expires_at: opts.expiresAt === undefined ? at + 86_400_000 : opts.expiresAt });
}

describe("notifications", () => {
  it("lists newest first with unread_only, cursor pages and unread_count; expired ones are hidden", async () => {
    const a = await signedInUser();
    const base = Date.now() - 10_000;
    const n1 = await notify(a.user.id, "one", { at: base });
    const n2 = await notify(a.user.id, "two", { at: base + 1, read: true });
    const n3 = await notify(a.user.id, "three", { at: base + 2 });
    await notify(a.user.id, "expired", { at: base + 3, expiresAt: Date.now() - 1 });

    const first = await json<Page>(await call("me/notifications?limit=2", { token: a.token }));
    expect(first.items.map((n) => n.id)).toEqual([n3, n2]);
    expect(first.unread_count).toBe(2);
    const second = await json<Page>(await call(`me/notifications?limit=2&cursor=${first.next_cursor}`, { token: a.token }));
    expect(second.items.map((n) => n.id)).toEqual([n1]);
    expect(second.next_cursor).toBeNull();

    const unread = await json<Page>(await call("me/notifications?unread_only=true", { token: a.token }));
    expect(unread.items.map((n) => n.id)).toEqual([n3, n1]);
  });

  it("marks one read (idempotent, 404 for another user's), then all read", async () => {
    const a = await signedInUser();
    const b = await signedInUser();
    const n1 = await notify(a.user.id, "one");
    await notify(a.user.id, "two");
    await expectProblem(await call(`me/notifications/${n1}/read`, { method: "POST", token: b.token }), 404, "not_found");
    expect((await call(`me/notifications/${n1}/read`, { method: "POST", token: a.token })).status).toBe(204);
    expect((await call(`me/notifications/${n1}/read`, { method: "POST", token: a.token })).status).toBe(204);
    expect((await json<Page>(await call("me/notifications", { token: a.token }))).unread_count).toBe(1);
    expect((await call("me/notifications/read-all", { method: "POST", token: a.token })).status).toBe(204);
    const page = await json<Page>(await call("me/notifications", { token: a.token }));
    expect(page.unread_count).toBe(0);
    expect(page.items.every((n) => n.is_read)).toBe(true);
  });

  it("the cron tick purges expired notifications", async () => {
    const a = await signedInUser();
    const expired = await notify(a.user.id, "old", { expiresAt: Date.now() - 1000 });
    const live = await notify(a.user.id, "new");
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/15 * * * *" }), env);
    const ids = (await env.DB.prepare("SELECT id FROM notifications WHERE user_id = ?").bind(a.user.id).all<{ id: string }>()).results.map((r) => r.id);
    expect(ids).toEqual([live]);
    expect(ids).not.toContain(expired);
  });
});
