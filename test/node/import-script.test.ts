import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs script without types
import { main, parseCsv } from "../../scripts/import-users.mjs";

type Body = { mode: string; users: Record<string, unknown>[] };

/** A stand-in for POST /admin/users/import that records what it got and can fail on demand. */
function fakeApi(respond: (body: Body, n: number) => { status: number; json?: unknown }) {
  const received: Body[] = [];
  const server: Server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      const body = JSON.parse(data) as Body;
      received.push(body);
      const out = respond(body, received.length);
      res.writeHead(out.status, { "content-type": "application/json" });
      res.end(JSON.stringify(out.json ?? { created: body.users.length, updated: 0, skipped: 0, failed: [] }));
    });
  });
  return new Promise<{ url: string; received: Body[]; close: () => void }>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => server.close() })),
  );
}

let close: (() => void) | undefined;
afterEach(() => close?.());

const quiet = async <T>(work: () => Promise<T>) => {
  const write = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stderr.write = write;
    process.stdout.write = out;
  }
};

describe("scripts/import-users.mjs", () => {
  it("parses RFC 4180 CSV (quotes, commas, newlines, escaped quotes)", () => {
    expect(parseCsv('a,b\n"x, y","say ""hi""\nthere"\r\n1,2\n')).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"\nthere'],
      ["1", "2"],
    ]);
  });

  it("maps CSV columns to import rows and sends chunks; after a failure a rerun resumes at the failed chunk", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "import-"));
    const file = path.join(dir, "users.csv");
    const lines = ["email,full_name,email_verified,roles,profile.company_name,profile.operating_states,profile.years_in_business,password_hash"];
    for (let i = 0; i < 25; i++) lines.push(`u${i}@example.com,"User ${i}",true,moderator;support,Acme ${i},Bihar;Goa,${i},`);
    writeFileSync(file, `${lines.join("\n")}\n`);

    let failThird = true;
    const api = await fakeApi((_body, n) => (n === 3 && failThird ? { status: 400, json: { code: "validation_failed" } } : { status: 200 }));
    close = api.close;
    const args = ["--url", api.url, "--token", "t", "--file", file, "--chunk", "10", "--mode", "upsert"];
    await expect(quiet(() => main(args))).rejects.toThrow(/HTTP 400/);
    expect(api.received.map((b) => b.users.length)).toEqual([10, 10, 5]);
    expect(api.received[0]!.mode).toBe("upsert");
    expect(api.received[0]!.users[3]).toEqual({
      email: "u3@example.com",
      full_name: "User 3",
      email_verified: true,
      roles: ["moderator", "support"],
      profile: { company_name: "Acme 3", operating_states: ["Bihar", "Goa"], years_in_business: 3 },
    });
    const state = JSON.parse(readFileSync(`${file}.import-state.json`, "utf8"));
    expect(state.nextRow).toBe(20);

    failThird = false;
    const totals = (await quiet(() => main(args))) as { created: number };
    expect(api.received.slice(3).map((b) => b.users[0]!.email)).toEqual(["u20@example.com"]);
    expect(totals.created).toBe(25);
  });

  it("reads JSON Lines, retries a 503, and records rejected rows", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "import-"));
    const file = path.join(dir, "users.jsonl");
    writeFileSync(file, [{ email: "a@example.com", full_name: "A" }, { email: "bad", full_name: "B" }].map((u) => JSON.stringify(u)).join("\n"));
    const api = await fakeApi((body, n) =>
      n === 1 ? { status: 503 } : { status: 200, json: { created: 1, updated: 0, skipped: 0, failed: [{ index: 1, email: body.users[1]!.email, code: "validation_failed" }] } },
    );
    close = api.close;
    const totals = await quiet(() => main(["--url", api.url, "--token", "t", "--file", file]));
    expect(api.received).toHaveLength(2);
    expect(totals).toEqual({ created: 1, updated: 0, skipped: 0, failed: 1 });
    expect(existsSync(`${file}.failed.jsonl`)).toBe(true);
    expect(JSON.parse(readFileSync(`${file}.failed.jsonl`, "utf8"))).toEqual({ row: 1, email: "bad", code: "validation_failed" });
  });
});
