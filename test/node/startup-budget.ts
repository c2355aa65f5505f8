/**
 * What a cold start loads (the code-split build `wrangler deploy` uploads), gzip -9 bytes summed
 * over the startup modules. Set from `npm run bench:bundle` (docs/performance.md) plus ~2 %:
 * a change that grows the cold start past it must say so here, with the new table. The goal of
 * issue 20 is 150 KiB. Issue 18 (idempotency keys, ETags): 254.2 KiB measured, +1.2 KiB on every request's path.
 * Checked on esbuild's own output (bundle-budget.test.ts) and on what `wrangler deploy` makes of
 * it (wrangler-build.test.ts).
 */
// Session 4 merged issues 18 and 19 (webhooks +3 KiB, idempotency and ETags +1.2, live
// notifications +2.9, links +2.2, reminders, facets and preview +5.5, org keys, delivery): 276.6 KiB
// measured after the merge, from 247.5. Mostly route declarations (zod schemas for OpenAPI) and the
// statements change batches write; services load on first use where a dynamic import() saved bytes.
// Issue 20, point 3: every route group, the queue consumers and the cron jobs load on first use
// (src/platform/lazy-routes.ts): 134.8 KiB measured, from 280.9; zod + zod-to-openapi + hono
// (64 KiB) and drizzle (28) are most of what remains. Without esbuild's keepNames (wrangler.toml
// keep_names = false, now also in the split build): 125.9 KiB measured (2026-12-06).
// 2026-12-07: GET /me's route group (and the identity layer every authenticated route needs) loads
// at startup, so the first read after a restart imports nothing: 142.8 KiB measured, from 126.1.
export const STARTUP_GZIP_BUDGET = 146 * 1024;
