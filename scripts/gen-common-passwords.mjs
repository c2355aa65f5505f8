#!/usr/bin/env node
// Generates src/features/auth/common-passwords.ts from the zxcvbn-ts frequency-ranked
// password list (devDependency @zxcvbn-ts/language-common). Run from the repo root:
//   node scripts/gen-common-passwords.mjs
// The output is committed so the Worker bundle never depends on a devDependency at runtime.
//
// The Worker ships no password text: only the sorted 32-bit FNV-1a hashes of the entries
// (lowercased, NFKC, UTF-8), as Rice-coded gaps (parameter RICE_K) in base64: ~20.5 bits an
// entry instead of ~9 bytes of text. password-policy.ts decodes them into a Uint32Array on
// the first check and binary-searches. False positives: a password that is not on the list is
// refused as "common" only when its hash collides with one of the 10,000, probability
// 10,000 / 2^32 ≈ 2.3e-6 (one in ~430,000).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const TOP_N = 10_000;
const RICE_K = 18; // ≈ log2(2^32 / 10,000) - 0.5: the gap's typical size.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sourceRel = "node_modules/@zxcvbn-ts/language-common/src/passwords.json";
const outRel = "src/features/auth/common-passwords.ts";

/** Must match fnv1a32 in src/features/auth/password-policy.ts (a test checks every entry). */
export function fnv1a32(text) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The list as the policy compares it: lowercase, NFKC, non-empty, deduplicated, ranked order. */
export function commonPasswordList() {
  const all = JSON.parse(readFileSync(path.join(root, sourceRel), "utf8"));
  if (!Array.isArray(all) || all.length < TOP_N) {
    throw new Error(`${sourceRel}: expected an array of at least ${TOP_N} passwords`);
  }
  return [...new Set(all.slice(0, TOP_N).map((p) => String(p).normalize("NFKC").toLowerCase()))].filter((p) => p.length > 0);
}

function riceEncode(sorted, k) {
  const bits = [];
  let previous = 0;
  for (const value of sorted) {
    const gap = value - previous;
    previous = value;
    for (let q = Math.floor(gap / 2 ** k); q > 0; q--) bits.push(1);
    bits.push(0);
    for (let i = k - 1; i >= 0; i--) bits.push(Math.floor(gap / 2 ** i) % 2);
  }
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    if (bit) bytes[i >> 3] |= 0x80 >> (i & 7);
  });
  return bytes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const version = JSON.parse(
    readFileSync(path.join(root, "node_modules/@zxcvbn-ts/language-common/package.json"), "utf8"),
  ).version;
  const list = commonPasswordList();
  const hashes = [...new Set(list.map(fnv1a32))].sort((a, b) => a - b);
  const encoded = Buffer.from(riceEncode(hashes, RICE_K)).toString("base64");

  const header = `// GENERATED FILE - DO NOT EDIT.
// Top ${TOP_N} entries of @zxcvbn-ts/language-common@${version} src/passwords.json
// (ranked by frequency), lowercased, NFKC and deduplicated: ${list.length} entries, ${hashes.length} distinct hashes.
// Regenerate with: node scripts/gen-common-passwords.mjs (it documents the encoding).
`;
  const body = `
/** How many hashes COMMON_PASSWORD_HASHES holds. */
export const COMMON_PASSWORD_COUNT = ${hashes.length};
/** Rice parameter: each gap is (gap >>> K) one-bits, a zero-bit, then the low K bits, MSB first. */
export const COMMON_PASSWORD_RICE_K = ${RICE_K};
/** Sorted 32-bit FNV-1a hashes of the lowercased NFKC passwords, as Rice-coded gaps, base64. */
export const COMMON_PASSWORD_HASHES = ${JSON.stringify(encoded)};
`;
  writeFileSync(path.join(root, outRel), header + body);
  console.log(`wrote ${outRel} (${list.length} passwords, ${hashes.length} hashes, ${encoded.length} base64 chars)`);
}
