import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

/**
 * A local DNS-over-HTTPS responder for the workers tests (vitest globalSetup, in Node: a test
 * inside workerd cannot listen on a port). It answers `GET /dns-query?name=&type=TXT` with
 * `accept: application/dns-json` in the JSON format of Cloudflare's and Google's resolvers, from
 * records the tests publish with `POST /records {name, values}` (values: the TXT strings; a long
 * one is split into 255-character strings as DNS does). An unknown name is NXDOMAIN; a name
 * containing `slow-` answers after 10 s (for the timeout); `servfail-` answers SERVFAIL.
 * Tests read its base URL with `inject("dohUrl")`.
 */
const records = new Map<string, string[]>();

const quote = (value: string) => {
  const parts = value.match(/.{1,255}/gs) ?? [""];
  return parts.map((p) => `"${p.replace(/(["\\])/g, "\\$1")}"`).join(" ");
};

async function body(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const send = (status: number, payload: unknown, type = "application/dns-json") => {
    res.writeHead(status, { "content-type": type });
    res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
  };
  if (req.method === "POST" && url.pathname === "/records") {
    const { name, values } = JSON.parse(await body(req)) as { name: string; values: string[] };
    records.set(name.toLowerCase(), values);
    return send(204, "", "text/plain");
  }
  if (req.method !== "GET" || url.pathname !== "/dns-query") return send(404, "not found", "text/plain");
  // As the public resolvers: the JSON API answers only when asked for it.
  if (req.headers.accept !== "application/dns-json") return send(400, "Bad Request: accept application/dns-json", "text/plain");
  const name = (url.searchParams.get("name") ?? "").toLowerCase();
  const type = url.searchParams.get("type");
  if (!name || type !== "TXT") return send(400, { Status: 1, error: "expected name and type=TXT" });
  const question = [{ name: `${name}.`, type: 16 }];
  if (name.includes("slow-")) await new Promise((r) => setTimeout(r, 10_000));
  if (name.includes("servfail-")) return send(200, { Status: 2, TC: false, RD: true, RA: true, AD: false, CD: false, Question: question });
  const values = records.get(name);
  if (!values) {
    return send(200, {
      Status: 3, TC: false, RD: true, RA: true, AD: false, CD: false, Question: question,
      Authority: [{ name: `${name.split(".").slice(-2).join(".")}.`, type: 6, TTL: 1800, data: "ns.test. hostmaster.test. 1 7200 1800 86400 1800" }],
    });
  }
  return send(200, {
    Status: 0, TC: false, RD: true, RA: true, AD: false, CD: false, Question: question,
    Answer: values.map((v) => ({ name: `${name}.`, type: 16, TTL: 300, data: quote(v) })),
  });
}

export default async function setup(project: TestProject) {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("dohUrl", `http://127.0.0.1:${port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the local DNS-over-HTTPS responder (test/helpers/doh-server.ts). */
    dohUrl: string;
  }
}
