#!/usr/bin/env node
// Generates src/features/auth/common-passwords.ts from the zxcvbn-ts frequency-ranked
// password list (devDependency @zxcvbn-ts/language-common). Run from the repo root:
//   node scripts/gen-common-passwords.mjs
// The output is committed so the Worker bundle never depends on a devDependency at runtime.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const TOP_N = 10_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sourceRel = "node_modules/@zxcvbn-ts/language-common/src/passwords.json";
const outRel = "src/features/auth/common-passwords.ts";

const all = JSON.parse(readFileSync(path.join(root, sourceRel), "utf8"));
if (!Array.isArray(all) || all.length < TOP_N) {
  throw new Error(`${sourceRel}: expected an array of at least ${TOP_N} passwords`);
}
const version = JSON.parse(
  readFileSync(path.join(root, "node_modules/@zxcvbn-ts/language-common/package.json"), "utf8"),
).version;

// Lowercase because the policy compares case-insensitively; Set keeps first (most common) order.
const unique = [...new Set(all.slice(0, TOP_N).map((p) => String(p).toLowerCase()))];
// "\n" is the separator, so an entry containing one would corrupt the list.
const clean = unique.filter((p) => p.length > 0 && !p.includes("\n"));

const header = `// GENERATED FILE - DO NOT EDIT.
// Top ${TOP_N} entries of @zxcvbn-ts/language-common@${version} src/passwords.json
// (ranked by frequency), lowercased and deduplicated: ${clean.length} entries.
// Regenerate with: node scripts/gen-common-passwords.mjs
`;
const body = `
/** Newline-separated common passwords (lowercase); a single string is cheaper to load than an array literal. */
export const COMMON_PASSWORDS_TEXT = ${JSON.stringify(clean.join("\n"))};
`;
writeFileSync(path.join(root, outRel), header + body);
console.log(`wrote ${outRel} (${clean.length} passwords)`);
