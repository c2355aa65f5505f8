import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { root, startKeel, type KeelServer } from "./server";

// Review of issue 20, point 0 (keel-web in front of keel through a service binding): every kind
// of request keel answers still works through keel-web on one origin, and nothing reaches
// keel-web's assets by another path. No browser needed: plain HTTP against the two wrangler dev.

let keel: KeelServer;
const ORIGIN = "https://app.example.com";
beforeAll(async () => {
  keel = await startKeel({ vars: { CORS_ORIGINS: ORIGIN } });
});
afterAll(async () => {
  await keel?.stop();
});

/** A raw HTTP request (the path exactly as given: no URL normalisation by the client). */
function raw(path: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  const url = new URL(keel.base);
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("keel-web forwards everything keel answers, on one origin", () => {
  it("HEAD, and an OPTIONS preflight from a listed origin", async () => {
    const head = await fetch(`${keel.base}/health`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const pre = await fetch(`${keel.base}/api/v1/me`, {
      method: "OPTIONS",
      headers: { Origin: ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });

  it("a body of 1 MiB reaches keel's validation; above it answers 413 problem+json", async () => {
    const body = (size: number) => {
      const skeleton = JSON.stringify({ email: "x@example.com", password: "p", pad: "" });
      return skeleton.replace('"pad":""', `"pad":"${"a".repeat(size - skeleton.length)}"`);
    };
    const at = await fetch(`${keel.base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: body(1024 * 1024) });
    expect(at.status).not.toBe(413);
    expect(at.status).toBeGreaterThanOrEqual(400);
    const over = await fetch(`${keel.base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: body(1024 * 1024 + 1) });
    expect(over.status).toBe(413);
    expect(over.headers.get("content-type")).toContain("application/problem+json");
  });

  it("a cookie sign-in's two Set-Cookie headers arrive separately; the streamed data export arrives whole", async () => {
    const { DEMO_USERS } = (await import(path.join(root, "scripts", "demo-data.mjs"))) as { DEMO_USERS: { email: string; password: string }[] };
    const demo = DEMO_USERS.find((u) => u.email === "demo@keel.test")!;
    const res = await fetch(`${keel.base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: demo.email, password: demo.password, refresh_token_delivery: "cookie" }),
    });
    expect(res.status).toBe(200);
    const cookies = res.headers.getSetCookie().map((c) => c.split("=")[0]);
    expect(cookies.sort()).toEqual(["__Secure-keel_device", "__Secure-keel_refresh"]);
    const { access_token } = (await res.json()) as { access_token: string };

    const exported = await fetch(`${keel.base}/api/v1/me/export`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(exported.status).toBe(200);
    const doc = (await exported.json()) as Record<string, unknown>;
    expect(JSON.stringify(doc)).toContain(demo.email);

    // A WebSocket upgrade of the live notification stream passes through the service binding.
    const ticket = (await (await fetch(`${keel.base}/api/v1/me/notifications/ticket`, { method: "POST", headers: { authorization: `Bearer ${access_token}` } })).json()) as { ticket: string };
    const url = new URL(keel.base);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: url.hostname,
        port: url.port,
        path: `/api/v1/me/notifications/stream?ticket=${encodeURIComponent(ticket.ticket)}`,
        headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
      });
      req.on("upgrade", (r, socket: net.Socket) => {
        socket.destroy();
        resolve(r.statusCode ?? 0);
      });
      req.on("response", (r) => resolve(r.statusCode ?? 0));
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(101);
  });
});

describe("nothing reaches keel-web's assets or keel by another path", () => {
  it("dot segments and encoded slashes: an /api path never comes back as the console, /static never as keel", async () => {
    const viaConsole = await raw("/console/../api/v1/no-such-route");
    expect(viaConsole.body).not.toContain("/console/app.js");
    const secrets = await raw("/static/..%2f..%2fwrangler.toml");
    expect(secrets.body).not.toContain("[[d1_databases]]");
    const devVars = await raw("/static/../.dev.vars");
    expect(devVars.body).not.toContain("JWT_SIGNING_KEYS");
    // The API's problem+json 404 for an unknown path (not the console's index.html).
    const api = await raw("/api/v1/%2e%2e/console");
    expect(api.body).not.toContain("/console/app.js");
  });
});
