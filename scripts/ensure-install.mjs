#!/usr/bin/env node
// Installs the project's dependencies when they are missing or out of date, and does nothing
// (silently) otherwise. Runs on plain Node >= 20 with no dependencies, so it works on a fresh
// clone before node_modules exists. Used by `npm test` and `npm start`:
//   node scripts/ensure-install.mjs          # install if needed
//   node scripts/ensure-install.mjs --check  # only report; exit 1 when an install is needed
//
// "Up to date" means: node_modules/.package-lock.json (npm's record of what it installed) lists
// every package of package-lock.json at the same version and source (optional packages for
// other platforms excepted), package-lock.json's root matches package.json's dependencies, and
// the binaries the scripts rely on exist (wrangler, vitest, tsc, and Node 22 from the `node`
// devDependency, whose install script must have run).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const REQUIRED_FILES = [
  "node_modules/.bin/wrangler",
  "node_modules/.bin/vitest",
  "node_modules/.bin/tsc",
  "node_modules/node/bin/node", // put there by the `node` package's install script
  "node_modules/workerd/bin/workerd",
];

function readJson(rel) {
  try {
    return JSON.parse(readFileSync(path.join(root, rel), "utf8"));
  } catch {
    return undefined;
  }
}

/** Why an install is needed, or undefined when node_modules is up to date. */
export function installReason() {
  for (const rel of REQUIRED_FILES) {
    if (!existsSync(path.join(root, rel))) return `${rel} is missing`;
  }
  const lock = readJson("package-lock.json");
  if (!lock) return "there is no package-lock.json";
  const installed = readJson("node_modules/.package-lock.json");
  if (!installed?.packages) return "node_modules/.package-lock.json is missing";

  const pkg = readJson("package.json") ?? {};
  const lockRoot = lock.packages?.[""] ?? {};
  for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
    const want = pkg[field] ?? {};
    const have = lockRoot[field] ?? {};
    const names = new Set([...Object.keys(want), ...Object.keys(have)]);
    for (const name of names) {
      if (want[name] !== have[name]) return `package.json ${field}.${name} differs from package-lock.json`;
    }
  }

  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === "" || !key.startsWith("node_modules/")) continue;
    const got = installed.packages[key];
    if (!got) {
      // Platform-specific optional packages (other OS/CPU) are legitimately absent.
      if (entry.optional || entry.devOptional) continue;
      return `${key} is not installed`;
    }
    if (got.version !== entry.version || (entry.resolved && got.resolved && got.resolved !== entry.resolved)) {
      return `${key} is ${got.version}, package-lock.json wants ${entry.version}`;
    }
    if (!existsSync(path.join(root, key))) return `${key} is missing`;
  }
  return undefined;
}

/**
 * Optional dependencies that package-lock.json names but has no entry for. npm records only
 * what the registry could serve when the lock was made (a registry without the macOS/Windows
 * builds of workerd leaves those out), and `npm ci` refuses such a lock as "out of sync".
 */
export function lockGaps(lock) {
  const packages = lock?.packages ?? {};
  const gaps = [];
  for (const [key, entry] of Object.entries(packages)) {
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      // Node resolution: <key>/node_modules/dep, then each ancestor's node_modules/dep.
      let dir = key;
      let found = false;
      for (;;) {
        if (packages[dir ? `${dir}/node_modules/${dep}` : `node_modules/${dep}`]) {
          found = true;
          break;
        }
        if (!dir) break;
        const i = dir.lastIndexOf("/node_modules/");
        dir = i >= 0 ? dir.slice(0, i) : "";
      }
      if (!found) gaps.push(`${key || "(root)"} -> ${dep}`);
    }
  }
  return gaps;
}

/** npm's output without its EBADENGINE warnings, and how many packages they were about. */
export function withoutEngineWarnings(text) {
  const engines = text.match(/EBADENGINE Unsupported engine/g)?.length ?? 0;
  const rest = text
    .split("\n")
    .filter((l) => !/\bEBADENGINE\b/.test(l))
    .join("\n");
  return { rest, engines };
}

/** Installs dependencies if needed. Quiet when nothing is to be done; throws when npm fails. */
export function ensureInstall() {
  const reason = installReason();
  if (!reason) return false;
  const lock = readJson("package-lock.json");
  const common = ["--no-audit", "--no-fund", "--include=dev"];
  let args;
  if (!lock) {
    args = ["install", ...common];
  } else if (lockGaps(lock).length > 0) {
    // `npm ci` would refuse this lock; `npm install --no-save` installs the same locked
    // versions without rewriting package-lock.json.
    console.log(
      `[ensure-install] package-lock.json has no entries for ${lockGaps(lock).length} optional platform packages ` +
        "(not served by this registry), so npm ci would refuse it; using npm install --no-save instead",
    );
    args = ["install", "--no-save", ...common];
  } else {
    args = ["ci", ...common];
  }
  console.log(`[ensure-install] ${reason}: running npm ${args.join(" ")}`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // npm checks every package's `engines` against the Node that runs npm, not the Node 22 that
  // runs the tools (the `node` devDependency): on Node 20 that is a storm of EBADENGINE warnings
  // about packages that never run on it. They are counted in one line; the rest of npm's
  // output passes through.
  const res = spawnSync(npm, args, { cwd: root, stdio: ["inherit", "inherit", "pipe"], encoding: "utf8", maxBuffer: 64 * 1024 * 1024, shell: process.platform === "win32" });
  const { rest, engines } = withoutEngineWarnings(res.stderr ?? "");
  process.stderr.write(rest);
  if (engines > 0) {
    console.log(`[ensure-install] ${engines} packages ask for a newer Node than ${process.version}; they run on the project's Node 22 (node_modules/node), so npm's EBADENGINE warnings were left out`);
  }
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`npm ${args.join(" ")} failed (exit ${res.status ?? res.signal})`);
  const after = installReason();
  if (after) throw new Error(`dependencies still incomplete after npm ${args[0]}: ${after}`);
  return true;
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  if (process.argv.includes("--check")) {
    const reason = installReason();
    if (reason) {
      console.log(`install needed: ${reason}`);
      process.exit(1);
    }
    process.exit(0);
  }
  try {
    ensureInstall();
  } catch (err) {
    console.error(`[ensure-install] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
