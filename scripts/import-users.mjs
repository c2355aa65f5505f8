#!/usr/bin/env node
// Imports users into keel from a CSV or JSON Lines file through POST /api/v1/admin/users/import,
// in chunks, with a progress bar on stderr, resuming after the last chunk that succeeded.
//
//   node scripts/import-users.mjs --url http://127.0.0.1:8787 --token "$ADMIN_TOKEN" \
//     --file users.csv [--mode skip|upsert] [--chunk 1000] [--state users.csv.import-state.json] [--restart]
//
// Input (the ImportUserRow fields of the OpenAPI document):
//   - JSON Lines (.jsonl/.ndjson, or --format jsonl): one user object per line.
//   - CSV (.csv, or --format csv): a header row naming the columns. `roles` is a `;`-separated
//     list; `email_verified` is true/false/1/0; `profile.<field>` columns form the profile
//     (`profile.operating_states` and the other list fields are `;`-separated, numbers are numbers);
//     empty cells are left out.
// Chunks hold at most --chunk rows (≤ 1000) and stay under the API's 1 MiB body limit. After
// each chunk that the API accepted, the state file records the next row, so a rerun after a
// crash or Ctrl-C continues there (the import is idempotent by email anyway). Rows the API
// rejected are appended to <file>.failed.jsonl with their code. 429/5xx/network errors are
// retried with backoff. The access token must belong to an administrator (admin:users).
// Plain Node ≥ 20, no dependencies. Exit code 0 when every chunk was sent (rows may have failed).
import fs from "node:fs";
import path from "node:path";

const MAX_ROWS = 1000;
const MAX_BODY_BYTES = 900 * 1024; // the API refuses bodies over 1 MiB
const LIST_FIELDS = new Set(["industry_sector", "operating_states", "preferred_tender_types", "specializations"]);
const NUMBER_FIELDS = new Set(["years_in_business", "min_tender_value", "max_tender_value"]);

function parseArgs(argv) {
  const out = { mode: "skip", chunk: MAX_ROWS, restart: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--restart") out.restart = true;
    else if (a === "--help" || a === "-h") out.help = true;
    else if (a.startsWith("--")) {
      const [k, inline] = a.slice(2).split("=", 2);
      out[k] = inline ?? argv[++i];
    }
  }
  out.chunk = Number(out.chunk);
  return out;
}

function usage(message) {
  if (message) process.stderr.write(`error: ${message}\n`);
  process.stderr.write("usage: import-users.mjs --url <base url> --token <admin access token> --file <users.csv|users.jsonl> [--mode skip|upsert] [--chunk 1..1000] [--state <file>] [--format csv|jsonl] [--restart]\n");
  process.exit(message ? 2 : 0);
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function cellValue(key, value) {
  if (key === "roles" || LIST_FIELDS.has(key)) return value.split(";").map((s) => s.trim()).filter(Boolean);
  if (key === "email_verified") return /^(true|1|yes)$/i.test(value);
  if (NUMBER_FIELDS.has(key)) return Number(value);
  return value;
}

function csvUsers(text) {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""));
  if (!header) return [];
  const columns = header.map((h) => h.trim());
  return rows.map((cells) => {
    const user = {};
    columns.forEach((col, i) => {
      const raw = cells[i];
      if (raw === undefined || raw === "") return;
      if (col.startsWith("profile.")) {
        const key = col.slice("profile.".length);
        (user.profile ??= {})[key] = cellValue(key, raw);
      } else user[col] = cellValue(col, raw);
    });
    return user;
  });
}

function jsonlUsers(text) {
  return text
    .split(/\r?\n/)
    .map((line, i) => [line.trim(), i + 1])
    .filter(([line]) => line !== "")
    .map(([line, n]) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`line ${n} is not JSON`);
      }
    });
}

/** Deterministic chunks (the same file always splits the same way, so resuming is exact). */
function chunksOf(users, size) {
  const chunks = [];
  let start = 0;
  while (start < users.length) {
    let end = start;
    let bytes = 64;
    while (end < users.length && end - start < size) {
      const b = Buffer.byteLength(JSON.stringify(users[end])) + 1;
      if (end > start && bytes + b > MAX_BODY_BYTES) break;
      bytes += b;
      end++;
    }
    chunks.push({ start, end });
    start = end;
  }
  return chunks;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function post(url, token, body) {
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    } catch (err) {
      if (attempt >= 6) throw err;
      await sleep(500 * 2 ** attempt);
      continue;
    }
    if (res.ok) return res.json();
    const retryable = res.status === 429 || res.status >= 500 || res.status === 409;
    const text = await res.text();
    if (!retryable || attempt >= 6) throw new Error(`HTTP ${res.status}: ${text.slice(0, 500)}`);
    const after = Number(res.headers.get("retry-after"));
    await sleep(Number.isFinite(after) && after > 0 ? after * 1000 : 500 * 2 ** attempt);
  }
}

function progress(done, total, totals, started) {
  if (!process.stderr.isTTY && done !== total && done % 10_000 >= 1000) return;
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  const secs = (Date.now() - started) / 1000;
  const rate = secs > 0 ? Math.round(done / secs) : 0;
  const line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} rows · created ${totals.created} updated ${totals.updated} skipped ${totals.skipped} failed ${totals.failed} · ${rate}/s`;
  process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
}

export async function main(argv = process.argv.slice(2)) {
  const args = parseArgs(argv);
  if (args.help) usage();
  if (!args.url) usage("--url is required");
  if (!args.token) usage("--token is required");
  if (!args.file) usage("--file is required");
  if (!["skip", "upsert"].includes(args.mode)) usage("--mode is skip or upsert");
  if (!Number.isInteger(args.chunk) || args.chunk < 1 || args.chunk > MAX_ROWS) usage(`--chunk is 1..${MAX_ROWS}`);
  const format = args.format ?? (/\.(jsonl|ndjson)$/i.test(args.file) ? "jsonl" : "csv");
  const stateFile = args.state ?? `${args.file}.import-state.json`;
  const failedFile = `${args.file}.failed.jsonl`;

  const stat = fs.statSync(args.file);
  const text = fs.readFileSync(args.file, "utf8");
  const users = format === "jsonl" ? jsonlUsers(text) : csvUsers(text);
  const chunks = chunksOf(users, args.chunk);
  const fingerprint = { file: path.resolve(args.file), size: stat.size, mtimeMs: stat.mtimeMs, chunk: args.chunk, mode: args.mode };

  let state = { ...fingerprint, nextRow: 0, totals: { created: 0, updated: 0, skipped: 0, failed: 0 } };
  if (!args.restart && fs.existsSync(stateFile)) {
    const saved = JSON.parse(fs.readFileSync(stateFile, "utf8"));
    const same = Object.entries(fingerprint).every(([k, v]) => saved[k] === v);
    if (!same) throw new Error(`${stateFile} belongs to another file, size, chunk size or mode; pass --restart to start over`);
    state = saved;
    if (state.nextRow > 0) process.stderr.write(`resuming at row ${state.nextRow} of ${users.length}\n`);
  }

  const endpoint = `${args.url.replace(/\/+$/, "")}/api/v1/admin/users/import`;
  const started = Date.now();
  progress(state.nextRow, users.length, state.totals, started);
  for (const { start, end } of chunks) {
    if (end <= state.nextRow) continue;
    const result = await post(endpoint, args.token, { mode: args.mode, users: users.slice(start, end) });
    for (const f of result.failed) fs.appendFileSync(failedFile, `${JSON.stringify({ row: start + f.index, email: f.email, code: f.code })}\n`);
    state.totals.created += result.created;
    state.totals.updated += result.updated;
    state.totals.skipped += result.skipped;
    state.totals.failed += result.failed.length;
    state.nextRow = end;
    // Written atomically, after the API accepted the chunk: a crash re-sends at most this one chunk.
    fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify(state));
    fs.renameSync(`${stateFile}.tmp`, stateFile);
    progress(end, users.length, state.totals, started);
  }
  if (process.stderr.isTTY) process.stderr.write("\n");
  process.stdout.write(`${JSON.stringify({ rows: users.length, ...state.totals, seconds: (Date.now() - started) / 1000 })}\n`);
  return state.totals;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    process.stderr.write(`\nimport failed: ${err.message}\n(the state file keeps the last chunk that succeeded; rerun the same command to resume)\n`);
    process.exit(1);
  });
}
