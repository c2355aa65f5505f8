#!/usr/bin/env node
// Seeds a local D1 with a large user base for the admin-search and org-members benchmarks:
// SEED_USERS users (default 100,000) with profiles and preferences, a few organizations with
// members (one of each size in SEED_ORG_SIZES), and an administrator who can sign in.
//
//   npm run bench:seed-users                        # into wrangler's default local state
//   SEED_PERSIST_TO=.wrangler/bench-state npm run bench:seed-users
//
// The SQL is generated into files under SEED_OUT_DIR (multi-row INSERTs, each statement under
// D1's 100 KB statement limit) and applied chunk by chunk with
// `wrangler d1 execute DB --local --file …`. Rows use INSERT OR IGNORE, so a rerun adds nothing.
// Seeded users cannot sign in (their password hash is not a hash); the administrator
// (SEED_ADMIN_EMAIL / SEED_ADMIN_PASSWORD) can, and holds the built-in `admin` role.
// Knobs: SEED_USERS, SEED_ORG_SIZES ("2000,500,100,20,5"), SEED_USERS_PER_FILE (25000),
// SEED_PERSIST_TO, SEED_OUT_DIR (.wrangler/seed-sql), SEED_SKIP_MIGRATIONS=1.
import { spawnSync } from "node:child_process";
import { randomBytes, scryptSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const USERS = Number(process.env.SEED_USERS ?? 100_000);
const ORG_SIZES = (process.env.SEED_ORG_SIZES ?? "2000,500,100,20,5").split(",").map(Number).filter((n) => n > 0);
const PER_FILE = Number(process.env.SEED_USERS_PER_FILE ?? 25_000);
const ROWS_PER_INSERT = 250;
const OUT = path.resolve(root, process.env.SEED_OUT_DIR ?? path.join(".wrangler", "seed-sql"));
const PERSIST = process.env.SEED_PERSIST_TO ? ["--persist-to", path.resolve(root, process.env.SEED_PERSIST_TO)] : [];
const ADMIN_EMAIL = process.env.SEED_ADMIN_EMAIL ?? "admin@bench.keel.test";
const ADMIN_PASSWORD = process.env.SEED_ADMIN_PASSWORD ?? "keel-bench-operator-passphrase";
if (!Number.isInteger(USERS) || USERS < 1 || USERS > 1_000_000) throw new Error("SEED_USERS must be 1..1,000,000");
if (ORG_SIZES.reduce((a, b) => a + b, 0) > USERS) throw new Error("SEED_ORG_SIZES add up to more than SEED_USERS");

const FIRST = ["Aarav", "Ada", "Aditi", "Alan", "Ananya", "Arjun", "Bianca", "Chen", "Deepa", "Diego", "Elena", "Farah", "Grace", "Hiro", "Ishaan", "Jana", "Kavya", "Liam", "Meera", "Noah", "Olga", "Priya", "Rahul", "Sara", "Tanvi", "Uma", "Vikram", "Wei", "Yusuf", "Zoe"];
const LAST = ["Agarwal", "Banerjee", "Castillo", "Das", "Eriksen", "Fernandes", "Gupta", "Hopper", "Iyer", "Joshi", "Kapoor", "Lovelace", "Menon", "Nair", "Okafor", "Patel", "Quillfeather", "Rao", "Sharma", "Turing", "Usman", "Verma", "Wagner", "Xu", "Yadav", "Zimmermann"];
const DOMAINS = ["example.com", "contractors.example.in", "infra-build.example.org", "tenders.example.net", "mail.example.co"];
const STATES = ["Maharashtra", "Karnataka", "Tamil Nadu", "Gujarat", "Delhi", "Kerala", "Punjab", "Odisha"];
const DAY = 86_400_000;
const now = Date.now();

const q = (v) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
const pad = (i) => String(i).padStart(7, "0");
const userId = (i) => `usr_seed_${pad(i)}`;

/** A deterministic, varied user: about 94% active, 90% verified, created over the last two years. */
function user(i) {
  const first = FIRST[i % FIRST.length];
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
  const status = i % 50 === 0 ? "suspended" : i % 25 === 0 ? "inactive" : "active";
  const type = ["free", "free", "free", "basic", "premium", "enterprise"][i % 6];
  const created = now - Math.floor(((i * 7919) % 730) * DAY + (i % 86_400) * 1000);
  const verified = i % 10 !== 0 ? 1 : 0;
  return {
    row: [userId(i), `${first}.${last}.${i}@${DOMAINS[i % DOMAINS.length]}`.toLowerCase(), "!seeded", `${first} ${last}`, status, type, verified, verified ? created : null, created, created, created],
    profile: [userId(i), `${last} ${["Infra", "Constructions", "Engineering", "Supplies"][i % 4]} Pvt Ltd`, STATES[i % STATES.length], created, created],
    preferences: [userId(i), created],
  };
}

const USER_COLUMNS = "(id, email, password_hash, full_name, status, account_type, email_verified, email_verified_at, password_changed_at, created_at, updated_at)";
const inserts = (table, columns, rows) => {
  const out = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    out.push(`INSERT OR IGNORE INTO ${table} ${columns} VALUES\n${rows.slice(i, i + ROWS_PER_INSERT).map((r) => `(${r.map(q).join(",")})`).join(",\n")};`);
  }
  return out;
};

/** The administrator's hash in keel's own format (`$scrypt$ln=14,r=8,p=5$salt$hash`, base64 without padding). */
function adminHash() {
  const salt = randomBytes(16);
  const key = scryptSync(Buffer.from(ADMIN_PASSWORD.normalize("NFKC")), salt, 32, { N: 2 ** 14, r: 8, p: 5, maxmem: 64 * 1024 * 1024 });
  const b64 = (b) => b.toString("base64").replace(/=+$/, "");
  return `$scrypt$ln=14,r=8,p=5$${b64(salt)}$${b64(key)}`;
}

function files() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const written = [];
  for (let start = 1, n = 0; start <= USERS; start += PER_FILE, n++) {
    const batch = Array.from({ length: Math.min(PER_FILE, USERS - start + 1) }, (_, k) => user(start + k));
    const sql = [
      ...inserts("users", USER_COLUMNS, batch.map((u) => u.row)),
      ...inserts("user_profiles", "(user_id, company_name, head_office_state, created_at, updated_at)", batch.map((u) => u.profile)),
      ...inserts("user_preferences", "(user_id, updated_at)", batch.map((u) => u.preferences)),
    ];
    const file = path.join(OUT, `users-${String(n).padStart(3, "0")}.sql`);
    fs.writeFileSync(file, sql.join("\n") + "\n");
    written.push(file);
  }
  // Organizations: one per size; members are consecutive seeded users, the first one the owner.
  const orgs = [];
  const members = [];
  let next = 1;
  ORG_SIZES.forEach((size, k) => {
    const orgId = `org_seed_${k}`;
    orgs.push([orgId, `Seed Org ${k} (${size} members)`, "business", Math.max(size, 25), userId(next), now - 400 * DAY, now]);
    for (let m = 0; m < size; m++, next++) {
      members.push([`mem_seed_${k}_${pad(m)}`, orgId, userId(next), m === 0 ? "owner" : m < 4 ? "admin" : m % 10 === 9 ? "viewer" : "member", now - (400 - (m % 365)) * DAY]);
    }
  });
  const adminId = "usr_seed_admin";
  const extra = [
    ...inserts("organizations", "(id, name, subscription_plan, max_users, created_by, created_at, updated_at)", orgs),
    ...inserts("organization_members", "(id, organization_id, user_id, role, joined_at)", members),
    ...inserts("users", USER_COLUMNS, [[adminId, ADMIN_EMAIL, adminHash(), "Bench Administrator", "active", "enterprise", 1, now, now, now, now]]),
    ...inserts("user_profiles", "(user_id, created_at, updated_at)", [[adminId, now, now]]),
    ...inserts("user_preferences", "(user_id, updated_at)", [[adminId, now]]),
    `INSERT OR IGNORE INTO user_roles (id, user_id, role_id) VALUES ('uro_seed_admin', '${adminId}', 'role_admin');`,
  ];
  const file = path.join(OUT, "orgs-and-admin.sql");
  fs.writeFileSync(file, extra.join("\n") + "\n");
  written.push(file);
  return written;
}

function wranglerRun(args) {
  const res = spawnSync(wrangler, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", env: { ...process.env, CI: "1" } });
  if (res.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${res.stdout}\n${res.stderr}`);
}

const started = Date.now();
const written = files();
console.log(`generated ${written.length} SQL files in ${path.relative(root, OUT)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (process.env.SEED_SKIP_MIGRATIONS !== "1") wranglerRun(["d1", "migrations", "apply", "DB", "--local", ...PERSIST]);
for (const [i, file] of written.entries()) {
  const t = Date.now();
  wranglerRun(["d1", "execute", "DB", "--local", ...PERSIST, "--yes", "--file", file]);
  console.log(`applied ${i + 1}/${written.length} ${path.basename(file)} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}
console.log(`seeded ${USERS} users, ${ORG_SIZES.length} organizations (${ORG_SIZES.join(", ")} members) and ${ADMIN_EMAIL} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
