import { createRouter } from "./app-factory";
import { getConfig } from "./config";
import { BOOKMARK_HEADER } from "./db";
import type { App } from "./context";
import { problemResponses } from "./problem";

let cached: string | undefined;

/**
 * The policy of /docs: only this origin's scripts (the pinned Scalar bundle and its start script,
 * static assets under /static/docs/), styles of this origin plus the ones Scalar injects, and API
 * calls to this origin. No third-party origin: this origin's pages can call the cookie refresh.
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>keel API reference</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <p id="docs-loading">Loading the API reference. The OpenAPI document itself is at <a href="/openapi.json">/openapi.json</a>.</p>
    <div id="app"></div>
    <script src="/static/docs/before.js"></script>
    <script src="/static/docs/scalar.js"></script>
    <script src="/static/docs/init.js"></script>
  </body>
</html>
`;

/** Why a status can answer any operation: one line per status, shown in the document. */
export type EveryOperationAnswers = Partial<Record<400 | 413 | 422 | 429 | 500 | 503, string>>;

const PROBLEM_REF = "#/components/schemas/Problem";
const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

type Operation = { requestBody?: { content?: Record<string, unknown> }; parameters?: unknown[]; responses?: Record<string, unknown> };

/**
 * Adds to every operation of `doc` the problem responses that do not come from its own route
 * definition: `everyOperation` (what the global middleware and the error handler can answer on any
 * route, declared beside them in app.ts), 400 where a JSON body can be malformed (hono's json
 * validator), and 422 where any input is validated (createRouter's defaultHook). A status the
 * route documents itself keeps the route's description.
 */
export function documentMiddlewareAnswers(doc: { paths?: Record<string, Record<string, unknown>> }, everyOperation: EveryOperationAnswers): void {
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const [method, value] of Object.entries(ops)) {
      if (!METHODS.has(method)) continue;
      const op = value as Operation;
      const answers: Record<string, string | undefined> = { ...everyOperation };
      if (op.requestBody?.content?.["application/json"]) answers[400] = "The JSON body is malformed";
      if (op.requestBody || op.parameters?.length) answers[422] = "The input does not match its schema";
      const responses = (op.responses ??= {});
      for (const [status, why] of Object.entries(answers)) {
        if (responses[status] || why === undefined) continue;
        // The generated document already holds the schema as a component: refer to it.
        const { description } = problemResponses(Number(status))[Number(status)]!;
        responses[status] = { description: `${description} — ${why}`, content: { "application/problem+json": { schema: { $ref: PROBLEM_REF } } } };
      }
    }
  }
}

const IDEMPOTENCY_KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "IETF httpapi draft: 1–255 printable characters, per caller, kept 24 hours. A repeat with the same body replays the first response with `Idempotent-Replayed: true`; with another body → 422 `idempotency_key_reused`; while the first still runs → 409 `conflict`. A response that carried a secret (a key shown once) is not kept: a repeat answers 409.",
  schema: { type: "string", minLength: 1, maxLength: 255 },
};

/**
 * Documents Idempotency-Key (identity/idempotency.ts) on every authenticated POST: the header,
 * and the 409 / 422 / 400 it can answer, beside what the route documents itself.
 */
export function documentIdempotency(doc: { paths?: Record<string, Record<string, unknown>> }): void {
  for (const ops of Object.values(doc.paths ?? {})) {
    const op = ops.post as (Operation & { security?: unknown[] }) | undefined;
    if (!op?.security?.length) continue;
    (op.parameters ??= []).push(IDEMPOTENCY_KEY_PARAMETER);
    const responses = (op.responses ??= {});
    const answers: Record<number, string> = {
      400: "Idempotency-Key is malformed",
      409: "a request with this Idempotency-Key is still running (or its response was not kept)",
      422: "idempotency_key_reused: this Idempotency-Key was used with another body",
    };
    for (const [status, why] of Object.entries(answers)) {
      if (responses[status]) continue;
      const { description } = problemResponses(Number(status))[Number(status)]!;
      responses[status] = { description: `${description} — ${why}`, content: { "application/problem+json": { schema: { $ref: PROBLEM_REF } } } };
    }
  }
}

const BOOKMARK_DESCRIPTION =
  "A D1 bookmark (read-your-writes, docs/api.md \"Consistency\"): every response that read or wrote D1 carries the newest one; a request that touched no D1 hands back the one it was sent. Send the last one you received with your next read to see your own writes when reads are served by replicas. A malformed value is ignored. Honoured by GET/HEAD outside /api/v1/auth, /api/v1/admin, /api/v1/orgs and the emailed links; writes and those always read the primary.";

/**
 * Documents X-D1-Bookmark (platform/db.ts) as shared components: the response header on every
 * response of every operation, and the request header as a parameter component (not attached to
 * each read: it is never validated, so it adds no 422, and the description says which reads honour it).
 */
export function documentBookmark(doc: { paths?: Record<string, Record<string, unknown>>; components?: Record<string, Record<string, unknown>> }): void {
  const components = (doc.components ??= {});
  (components.headers ??= {}).D1Bookmark = { description: BOOKMARK_DESCRIPTION, schema: { type: "string" } };
  (components.parameters ??= {}).D1Bookmark = { name: BOOKMARK_HEADER, in: "header", required: false, description: BOOKMARK_DESCRIPTION, schema: { type: "string" } };
  for (const ops of Object.values(doc.paths ?? {})) {
    for (const [method, value] of Object.entries(ops)) {
      if (!METHODS.has(method)) continue;
      const op = value as Operation;
      for (const response of Object.values(op.responses ?? {}) as { headers?: Record<string, unknown> }[]) {
        (response.headers ??= {})[BOOKMARK_HEADER] = { $ref: "#/components/headers/D1Bookmark" };
      }
    }
  }
}

/**
 * Serves the OpenAPI 3.1 document generated from the zod route definitions (so it cannot drift
 * from what is validated), and /docs, the API reference that reads it. Built once per isolate:
 * generating it walks every schema.
 * `everyOperation` are the statuses the global middleware can answer on any route.
 */
export function registerOpenApi(app: App, everyOperation: EveryOperationAnswers = {}, groups: () => Promise<App[]> = async () => []): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An access token (JWT) from /api/v1/auth/login, or an API key.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  app.get("/openapi.json", async (c) => {
    if (cached === undefined) {
      // The routes loaded on first use (lazy-routes.ts) are in their groups' registries: the
      // document reads the main app's definitions, then every group's, in route order.
      const definitions = [...app.openAPIRegistry.definitions, ...(await groups()).flatMap((g) => g.openAPIRegistry.definitions)];
      const docApp = createRouter();
      (docApp as { openAPIRegistry: unknown }).openAPIRegistry = { definitions };
      const doc = docApp.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "keel API",
          version: "1.0.0",
          description:
            "User management, multi-tenancy and personalization API on Cloudflare Workers. Errors are RFC 9457 problem documents with a stable `code`. The guide to conventions, authentication, errors, pagination, limits, the keyword rule and plans is docs/api.md in the repository.",
        },
        servers: [{ url: getConfig(c.env).PUBLIC_BASE_URL }],
      });
      documentMiddlewareAnswers(doc as Parameters<typeof documentMiddlewareAnswers>[0], everyOperation);
      documentIdempotency(doc as Parameters<typeof documentIdempotency>[0]);
      documentBookmark(doc as Parameters<typeof documentBookmark>[0]);
      cached = JSON.stringify(doc);
    }
    return c.body(cached, 200, { "content-type": "application/json; charset=utf-8" });
  });
  // The reader of that document: Scalar, from a pinned copy served as a static asset of this origin
  // (never a CDN), started by keel's own script, under DOCS_CSP.
  app.get("/docs", (c) =>
    c.html(DOCS_HTML, 200, { "Content-Security-Policy": DOCS_CSP, "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff" }),
  );
}
