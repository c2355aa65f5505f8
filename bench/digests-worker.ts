/**
 * Bench-only Worker (see bench/digests.mjs and bench/digests.wrangler.toml): seeds users with
 * pending matches into D1 and runs the real digest job (sendDueDigests) at an injected instant.
 *
 *   GET  /ping                      → "ok"
 *   POST /seed?users=&matches=&tenders=&start=&from=&to=&schedule=spread|same
 *                                   → users [from, to) (profiles, preferences, one alert each,
 *                                     `matches` pending matches each) and, with from=0, the tenders;
 *                                     bulk inserts of json_each rows (5,000 users per statement)
 *   POST /tick?at=&batch=&budget=   → sendDueDigests at `at` (ms), its report and elapsed ms
 *   GET  /due?at=                   → users whose next_digest_at <= at, outbox rows written
 *
 * Users get a spread of time zones (12, including +05:45 and DST zones), digest times on every
 * quarter hour, 70 % daily and 30 % weekly (on every weekday), derived from the user's index, and
 * next_digest_at as the job itself would have left it at the tick before `start` (nextDigestAt
 * after start − 15 min): the steady state, not the first tick after the migration backfill.
 *
 * performance.now() in local workerd advances during CPU work and I/O alike (local D1 runs in the
 * same workerd process), so a tick's ms here is its wall time including SQLite.
 */
import { sendDueDigests } from "../src/features/alert-delivery/digests.service";
import { DIGEST_WEEKDAYS, isoWeekday, nextDigestAt } from "../src/features/alert-delivery/schedule";
import { serviceContext } from "../src/platform/context";
import type { Env } from "../src/env";

interface BenchEnv {
  DB: D1Database;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const num = (url: URL, name: string, def: number) => {
  const v = Number(url.searchParams.get(name) ?? def);
  return Number.isFinite(v) ? v : def;
};

export const TIME_ZONES = [
  "UTC",
  "Asia/Kolkata",
  "Europe/London",
  "Europe/Berlin",
  "America/New_York",
  "America/Los_Angeles",
  "America/Sao_Paulo",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Asia/Dubai",
  "Africa/Lagos",
  "Asia/Kathmandu",
] as const;

/**
 * The schedule of user i: zone, quarter-hour digest time, daily (7 in 10) or weekly on a weekday;
 * with `same`, everyone on the columns' defaults (daily at 09:00 Asia/Kolkata): one slot for all.
 */
function scheduleOf(i: number, same: boolean) {
  if (same) return { tz: "Asia/Kolkata", time: "09:00", frequency: "daily" as const, weekday: "monday" as const };
  const tz = TIME_ZONES[i % TIME_ZONES.length] ?? "UTC";
  const q = Math.floor(i / TIME_ZONES.length) % 96;
  const mode = Math.floor(i / (TIME_ZONES.length * 96)) % 10;
  const time = `${String(Math.floor(q / 4)).padStart(2, "0")}:${String((q % 4) * 15).padStart(2, "0")}`;
  const frequency = mode < 7 ? ("daily" as const) : ("weekly" as const);
  const weekday = DIGEST_WEEKDAYS[(i + mode) % 7] ?? "monday";
  return { tz, time, frequency, weekday };
}

const userId = (i: number) => `bu${String(i).padStart(7, "0")}`;
const tenderId = (j: number) => `bt${String(j).padStart(5, "0")}`;
const CHUNK = 5_000;

async function insertRows(db: D1Database, sql: string, rows: unknown[][]) {
  for (let i = 0; i < rows.length; i += CHUNK) await db.prepare(sql).bind(JSON.stringify(rows.slice(i, i + CHUNK))).run();
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/ping") return new Response("ok");

    if (url.pathname === "/seed" && request.method === "POST") {
      const t0 = performance.now();
      const matches = num(url, "matches", 5);
      const tenders = num(url, "tenders", 500);
      const start = num(url, "start", 0);
      const from = num(url, "from", 0);
      const to = num(url, "to", 0);
      const same = url.searchParams.get("schedule") === "same";
      const db = env.DB;
      if (from === 0) {
        const rows = Array.from({ length: tenders }, (_, j) => [tenderId(j), `Bench tender ${j}: road works and supply of materials`, start + (1 + (j % 60)) * 86_400_000, 100_000 + j * 1_000]);
        await insertRows(db, "INSERT INTO tenders (id, external_id, title, closing_date, value, department, state) SELECT value ->> 0, value ->> 0, value ->> 1, value ->> 2, value ->> 3, 'Public Works', 'Karnataka' FROM json_each(?)", rows);
      }
      const after = new Date(start - 15 * 60_000);
      const nextCache = new Map<string, number | null>();
      const users: unknown[][] = [];
      const prefs: unknown[][] = [];
      const matchRows: unknown[][] = [];
      for (let i = from; i < to; i++) {
        const s = scheduleOf(i, same);
        const key = `${s.tz}|${s.time}|${s.frequency}|${s.weekday}`;
        let next = nextCache.get(key);
        if (next === undefined) {
          next = nextDigestAt({ after, timeZone: s.tz, digestTime: s.time, frequency: s.frequency, weekday: isoWeekday(s.weekday) })?.getTime() ?? null;
          nextCache.set(key, next);
        }
        users.push([userId(i), s.tz]);
        prefs.push([userId(i), s.frequency, s.time, s.weekday, next]);
        for (let k = 0; k < matches; k++) matchRows.push([`bm${i}-${k}`, `ba${userId(i).slice(2)}`, tenderId((i * 7 + k * 13) % tenders), userId(i), start - (k + 1) * 3_600_000]);
      }
      await insertRows(db, "INSERT INTO users (id, email, password_hash, full_name) SELECT value ->> 0, value ->> 0 || '@bench.example', '', 'Bench ' || (value ->> 0) FROM json_each(?)", users);
      await insertRows(db, "INSERT INTO user_profiles (user_id, timezone) SELECT value ->> 0, value ->> 1 FROM json_each(?)", users);
      await insertRows(
        db,
        "INSERT INTO user_preferences (user_id, email_digest_frequency, email_digest_time, email_digest_weekday, next_digest_at) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)",
        prefs,
      );
      await insertRows(
        db,
        `INSERT INTO alerts (id, user_id, name, criteria, notification_frequency) SELECT 'ba' || substr(value ->> 0, 3), value ->> 0, 'Road works', '{"keywords":"road"}', CASE value ->> 1 WHEN 'weekly' THEN 'weekly_digest' ELSE 'daily_digest' END FROM json_each(?)`,
        prefs,
      );
      for (let i = 0; i < matchRows.length; i += CHUNK * 2) {
        await db
          .prepare("INSERT INTO alert_matches (id, alert_id, tender_id, user_id, matched_at) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)")
          .bind(JSON.stringify(matchRows.slice(i, i + CHUNK * 2)))
          .run();
      }
      return json({ users: to - from, matches: matchRows.length, ms: performance.now() - t0 });
    }

    if (url.pathname === "/tick" && request.method === "POST") {
      const at = new Date(num(url, "at", Date.now()));
      const ctx = serviceContext(env as unknown as Env, { now: at });
      const batchSize = url.searchParams.has("batch") ? num(url, "batch", 200) : undefined;
      const budgetMs = url.searchParams.has("budget") ? num(url, "budget", 10_000) : undefined;
      const t0 = performance.now();
      const report = await sendDueDigests(ctx, { batchSize, budgetMs });
      return json({ ...report, ms: performance.now() - t0 });
    }

    if (url.pathname === "/due") {
      const at = num(url, "at", Date.now());
      const due = await env.DB.prepare("SELECT count(*) AS n FROM user_preferences WHERE next_digest_at <= ?").bind(at).first<{ n: number }>();
      const outbox = await env.DB.prepare("SELECT count(*) AS n FROM email_outbox").first<{ n: number }>();
      const users = await env.DB.prepare("SELECT count(*) AS n FROM users").first<{ n: number }>();
      const pending = await env.DB.prepare("SELECT count(*) AS n FROM alert_matches WHERE outbox_id IS NULL").first<{ n: number }>();
      return json({ due: due?.n ?? 0, outbox: outbox?.n ?? 0, users: users?.n ?? 0, unclaimed_matches: pending?.n ?? 0 });
    }

    return new Response("not found", { status: 404 });
  },
};
