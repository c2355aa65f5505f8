import { env } from "cloudflare:workers";
import { createScheduledController } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { DAY } from "../src/platform/time";
import { closingIn, insertAuditRow, insertTender } from "./helpers/fixtures";
import { movableClock, signedInUser, unique } from "./helpers/harness";

// Retention (issue 19, point 7) through the cron handler, with a clock moved past each window.

const tickAt = (at: number, vars: Record<string, string> = {}) =>
  worker.scheduled(createScheduledController({ scheduledTime: at, cron: "*/15 * * * *" }), { ...env, ...vars } as typeof env);

const count = async (q: string, ...args: unknown[]) => (await env.DB.prepare(q).bind(...args).first<{ n: number }>())!.n;

async function seed(userId: string, at: number) {
  const tender = await insertTender({ id: `tnd_${unique("rt")}`, title: "Retention", closing_date: closingIn(30) });
  await env.DB.prepare("INSERT INTO notifications (id, user_id, type, title, message, created_at) VALUES (?, ?, 'system', 't', 'm', ?)").bind(`ntf_${unique("rt")}`, userId, at).run();
  await env.DB.prepare("INSERT INTO tender_interactions (id, user_id, tender_id, interaction_type, created_at) VALUES (?, ?, ?, 'view', ?)").bind(`tiv_${unique("rt")}`, userId, tender, at).run();
}

describe("retention by cron", () => {
  it("purges notifications after 180 days and interactions after 365, keeping newer ones; audit rows stay by default", async () => {
    const { user } = await signedInUser();
    const clock = movableClock();
    const t0 = clock.now().getTime();
    await seed(user.id, t0);
    await seed(user.id, t0 + 100 * DAY);
    await insertAuditRow(user.id, { action: "user.retention_probe" });
    const notes = () => count("SELECT count(*) AS n FROM notifications WHERE user_id = ?", user.id);
    const views = () => count("SELECT count(*) AS n FROM tender_interactions WHERE user_id = ?", user.id);
    const audits = () => count("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'user.retention_probe'", user.id);

    await tickAt(t0 + 179 * DAY);
    expect([await notes(), await views()]).toEqual([2, 2]);
    await tickAt(t0 + 181 * DAY);
    expect([await notes(), await views()]).toEqual([1, 2]);
    await tickAt(t0 + 364 * DAY);
    expect(await views()).toBe(2);
    await tickAt(t0 + 366 * DAY);
    expect([await notes(), await views()]).toEqual([0, 1]);
    await tickAt(t0 + 3000 * DAY);
    expect([await views(), await audits()]).toEqual([0, 1]);
  });

  it("AUDIT_RETENTION_DAYS purges audit rows older than it; each tick deletes at most RETENTION_BATCH_SIZE rows per table", async () => {
    const { user } = await signedInUser();
    const now = Date.now();
    for (let i = 0; i < 5; i++) await seed(user.id, now - (400 + i) * DAY);
    await insertAuditRow(user.id, { action: "user.retention_probe" });
    const vars = { RETENTION_BATCH_SIZE: "2", AUDIT_RETENTION_DAYS: "30" };
    const notes = () => count("SELECT count(*) AS n FROM notifications WHERE user_id = ?", user.id);
    await tickAt(now, vars);
    expect(await notes()).toBe(3);
    await tickAt(now, vars);
    await tickAt(now, vars);
    expect(await notes()).toBe(0);
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'user.retention_probe'", user.id)).toBe(1);
    // (Other tests' audit rows are older: a larger batch reaches this one.)
    await tickAt(now + 31 * DAY, { ...vars, RETENTION_BATCH_SIZE: "10000" });
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE user_id = ? AND action = 'user.retention_probe'", user.id)).toBe(0);
  });

  it("deletes through the created_at indexes", async () => {
    for (const [table] of [["notifications"], ["tender_interactions"], ["audit_log"]]) {
      const plan = (await env.DB.prepare(`EXPLAIN QUERY PLAN SELECT rowid FROM ${table} WHERE created_at < ? ORDER BY created_at LIMIT 10`).bind(0).all<{ detail: string }>()).results;
      expect(plan.map((p) => p.detail).join(" "), table).toMatch(/USING (COVERING )?INDEX \w*created/);
    }
  });
});
