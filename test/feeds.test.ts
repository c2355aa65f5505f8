import { describe, expect, it } from "vitest";
import { DAY, MINUTE } from "../src/platform/time";
import { insertAlert, insertTender, setTenderUpdatedAt } from "./helpers/fixtures";
import { call, db, expectProblem, json, signedInUser, unique } from "./helpers/harness";
import { newId } from "../src/platform/ids";

// Issue 18, point 5: change feeds with stable (version, id) cursors.

type Page<T> = { items: T[]; next_cursor: string | null; sync_cursor: string };

/** Every page of a feed from `first`, following next_cursor; returns the items and the last sync_cursor. */
async function drain<T>(first: string, token: string, path: (cursor: string) => string) {
  const items: T[] = [];
  let res = await call(first, { token });
  for (let pages = 0; ; pages++) {
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await json<Page<T>>(res);
    items.push(...page.items);
    if (!page.next_cursor) return { items, sync: page.sync_cursor };
    expect(pages).toBeLessThan(100);
    res = await call(path(page.next_cursor), { token });
  }
}

describe("GET /tenders?updated_since=", () => {
  it("pages through rows of one millisecond without gaps or duplicates, and a tender changed later comes back after the cursor", async () => {
    const { token } = await signedInUser();
    // A window of its own, in the past (the feed serves rows older than its settle window).
    const t0 = Date.now() - 30 * DAY - Math.floor(Math.random() * DAY);
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const id = await insertTender({ title: `Feed ${i}` });
      await setTenderUpdatedAt(id, i < 17 ? t0 : t0 + 1);
      ids.push(id);
    }
    const since = new Date(t0).toISOString();
    const feed = (cursor?: string) => `tenders?updated_since=${encodeURIComponent(since)}&limit=4${cursor ? `&cursor=${cursor}` : ""}`;
    const { items, sync } = await drain<{ id: string; updated_at: string }>(feed(), token, feed);
    const seen = items.map((t) => t.id);
    expect(new Set(seen).size).toBe(seen.length);
    const mine = seen.filter((id) => ids.includes(id));
    expect(mine.sort()).toEqual([...ids].sort());
    // Ordered by (updated_at, id).
    const keys = items.map((t) => [Date.parse(t.updated_at), t.id] as const);
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]![0] < keys[i]![0] || (keys[i - 1]![0] === keys[i]![0] && keys[i - 1]![1] < keys[i]![1])).toBe(true);

    // Caught up: the sync cursor gives nothing new…
    const idle = await json<Page<{ id: string }>>(await call(`tenders?updated_since=${encodeURIComponent(since)}&cursor=${sync}`, { token }));
    expect(idle.items.filter((t) => ids.includes(t.id))).toEqual([]);
    expect(idle.next_cursor).toBeNull();
    // …until a tender changes again: it comes back, once.
    const changed = ids[3]!;
    await setTenderUpdatedAt(changed, Date.now() - MINUTE);
    const after = await json<Page<{ id: string }>>(await call(`tenders?updated_since=${encodeURIComponent(since)}&cursor=${idle.sync_cursor}`, { token }));
    expect(after.items.filter((t) => ids.includes(t.id)).map((t) => t.id)).toEqual([changed]);
  });

  it("does not serve rows younger than the settle window (a write may still commit behind them)", async () => {
    const { token } = await signedInUser();
    const fresh = await insertTender({ title: "Just now" });
    await setTenderUpdatedAt(fresh, Date.now());
    const page = await json<Page<{ id: string }>>(await call(`tenders?updated_since=${encodeURIComponent(new Date(Date.now() - DAY).toISOString())}&limit=100`, { token }));
    expect(page.items.map((t) => t.id)).not.toContain(fresh);
  });

  it("takes only limit and cursor beside updated_since; a foreign cursor is 422", async () => {
    const { token } = await signedInUser();
    const since = encodeURIComponent(new Date().toISOString());
    await expectProblem(await call(`tenders?updated_since=${since}&q=bridge`, { token }), 422, "validation_failed");
    await expectProblem(await call(`tenders?updated_since=${since}&cursor=bm9wZQ`, { token }), 422, "validation_failed");
    await expectProblem(await call(`tenders?updated_since=yesterday`, { token }), 422, "validation_failed");
  });
});

describe("GET /me/alerts/matches?since=", () => {
  it("is the feed of every alert of the caller, without gaps or duplicates, and never another user's", async () => {
    const { user, token } = await signedInUser();
    const other = await signedInUser();
    const a1 = await insertAlert(user.id, { criteria: { keywords: ["x"] }, notification_methods: ["in_app"] });
    const a2 = await insertAlert(user.id, { criteria: { keywords: ["y"] }, notification_methods: ["in_app"] });
    const foreign = await insertAlert(other.user.id, { criteria: { keywords: ["x"] }, notification_methods: ["in_app"] });
    const at = Date.now() - 10 * MINUTE;
    const mine: string[] = [];
    for (let i = 0; i < 12; i++) {
      const tender = await insertTender({ title: `Match ${i}` });
      const id = newId("amt");
      await db().prepare("INSERT INTO alert_matches (id, alert_id, tender_id, user_id, matched_at) VALUES (?, ?, ?, ?, ?)").bind(id, i % 2 ? a1 : a2, tender, user.id, at).run();
      mine.push(id);
      await db().prepare("INSERT INTO alert_matches (id, alert_id, tender_id, user_id, matched_at) VALUES (?, ?, ?, ?, ?)").bind(newId("amt"), foreign, tender, other.user.id, at).run();
    }
    const since = encodeURIComponent(new Date(at).toISOString());
    const feed = (cursor?: string) => `me/alerts/matches?since=${since}&limit=5${cursor ? `&cursor=${cursor}` : ""}`;
    const { items, sync } = await drain<{ id: string; alert_id: string; tender: { id: string } }>(feed(), token, feed);
    expect(items.map((m) => m.id).sort()).toEqual([...mine].sort());
    expect(new Set(items.map((m) => m.alert_id))).toEqual(new Set([a1, a2]));
    // A later match appears after the sync cursor, and only it.
    const later = newId("amt");
    await db().prepare("INSERT INTO alert_matches (id, alert_id, tender_id, user_id, matched_at) VALUES (?, ?, ?, ?, ?)").bind(later, a1, await insertTender({ title: unique("late") }), user.id, at + MINUTE).run();
    const next = await json<Page<{ id: string }>>(await call(`me/alerts/matches?cursor=${sync}`, { token }));
    expect(next.items.map((m) => m.id)).toEqual([later]);
    // The other user sees only theirs.
    const theirs = await json<Page<{ alert_id: string }>>(await call(`me/alerts/matches?since=${since}&limit=100`, { token: other.token }));
    expect(theirs.items.every((m) => m.alert_id === foreign)).toBe(true);
  });

  it("is not taken for an alert id", async () => {
    const { token } = await signedInUser();
    const res = await call("me/alerts/matches", { token });
    expect(res.status).toBe(200);
    expect(await json<Page<unknown>>(res)).toMatchObject({ items: [], next_cursor: null });
  });
});
