import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { TestProject } from "vitest/node";

/**
 * A webhook receiver for the workers tests (vitest globalSetup, in Node: a test inside workerd
 * cannot listen). `POST /hooks/<name>` records the delivery and answers the status configured for
 * `<name>` (default 204; `302` with a Location to show redirects are not followed). Each delivery
 * is checked with the official `standardwebhooks` package (an independent implementation) against
 * every secret registered for `<name>`, and de-duplicated by `webhook-id` as the specification
 * tells receivers to. Tests configure it with `POST /config {name, status?, secrets?, body?}` and
 * read `GET /received/<name>` → `{deliveries: [{id, headers, body, verified: {secret: boolean}}], unique_ids}`.
 * Its base URL: `inject("webhookReceiverUrl")`.
 */
interface Received {
  id: string;
  headers: Record<string, string>;
  body: string;
  verified: Record<string, boolean>;
}
const configs = new Map<string, { status: number; secrets: string[]; body?: string }>();
const received = new Map<string, Received[]>();

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const send = (status: number, payload: unknown) => {
    res.writeHead(status, { "content-type": "application/json", ...(status === 302 ? { location: "https://example.com/elsewhere" } : {}) });
    res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
  };
  if (req.method === "POST" && url.pathname === "/config") {
    const cfg = JSON.parse(await readBody(req)) as { name: string; status?: number; secrets?: string[]; body?: string };
    const prev = configs.get(cfg.name);
    configs.set(cfg.name, { status: cfg.status ?? prev?.status ?? 204, secrets: cfg.secrets ?? prev?.secrets ?? [], body: cfg.body ?? prev?.body });
    return send(200, {});
  }
  const recv = /^\/received\/([\w-]+)$/.exec(url.pathname);
  if (req.method === "GET" && recv) {
    const list = received.get(recv[1]!) ?? [];
    return send(200, { deliveries: list, unique_ids: [...new Set(list.map((d) => d.id))] });
  }
  const hook = /^\/hooks\/([\w-]+)$/.exec(url.pathname);
  if (req.method === "POST" && hook) {
    const name = hook[1]!;
    const body = await readBody(req);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const cfg = configs.get(name) ?? { status: 204, secrets: [] };
    const verified: Record<string, boolean> = {};
    for (const secret of cfg.secrets) {
      try {
        new Webhook(secret).verify(body, headers);
        verified[secret] = true;
      } catch {
        verified[secret] = false;
      }
    }
    received.set(name, [...(received.get(name) ?? []), { id: headers["webhook-id"] ?? "", headers, body, verified }]);
    return cfg.status === 204 ? (res.writeHead(204), res.end()) : send(cfg.status, cfg.body ?? { ok: cfg.status < 300 });
  }
  return send(404, { error: "not found" });
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
  project.provide("webhookReceiverUrl", `http://127.0.0.1:${port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the webhook receiver (test/helpers/webhook-receiver.global.ts). */
    webhookReceiverUrl: string;
  }
}
