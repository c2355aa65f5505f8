import { generateKeyPairSync, randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Fresh secrets for every test run, so tests never depend on a local .dev.vars. */
function testSecrets() {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test-key" };
  return {
    JWT_SIGNING_KEYS: JSON.stringify([jwk]),
    DATA_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  };
}

/** A free local TCP port (the OS picks; released at once for the OpenID test providers to take). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/**
 * The OpenID providers the workers tests sign in with (test/helpers/oidc-providers.global.ts starts
 * them): "test" (keel's configured social provider) and "other" (a second, independent instance,
 * also configured, with `trust_amr`). The redirect URI is keel's callback at PUBLIC_BASE_URL's default.
 */
async function oidcTestProviders() {
  // The config is evaluated more than once in the same process: pick the ports once.
  const ports = process.env.KEEL_OIDC_TEST_PORTS ? process.env.KEEL_OIDC_TEST_PORTS.split(",").map(Number) : [await freePort(), await freePort()];
  const redirect = "http://127.0.0.1:8787/api/v1/auth/oidc/callback";
  process.env.KEEL_OIDC_TEST_PORTS = ports.join(",");
  process.env.KEEL_OIDC_TEST_REDIRECTS = redirect;
  const client = { client_id: "keel-test", client_secret: "keel-test-secret-keel-test-secret" };
  return JSON.stringify([
    { id: "test", name: "Test IdP", issuer: `http://127.0.0.1:${ports[0]}`, ...client },
    { id: "other", name: "Other IdP", issuer: `http://127.0.0.1:${ports[1]}`, ...client, trust_amr: true },
  ]);
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const OIDC_PROVIDERS = await oidcTestProviders();
  return {
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      projects: [
        {
          // Behaviour tests and pure unit tests, inside workerd with real local D1, KV, DOs, Queues.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // The TypeScript source, not wrangler.toml's `main` (the code-split build that
              // `wrangler deploy` and `wrangler dev` make first, which the tests never run).
              main: "./src/index.ts",
              // wrangler.toml ships ENVIRONMENT=production; the suite runs as development.
              miniflare: { bindings: { ...testSecrets(), ENVIRONMENT: "development", TEST_MIGRATIONS: migrations, OIDC_PROVIDERS } },
            }),
          ],
          test: {
            name: "workers",
            setupFiles: ["./test/helpers/setup.ts"],
            // Node-side servers the worker reaches (a test in workerd cannot listen): a local
            // DNS-over-HTTPS responder for domain verification, and two oidc-provider instances.
            globalSetup: ["./test/helpers/doh-server.ts", "./test/helpers/oidc-providers.global.ts", "./test/helpers/webhook-receiver.global.ts"],
            include: ["test/**/*.test.ts", "src/**/*.test.ts"],
            exclude: ["test/node/**", "test/browser/**"],
            testTimeout: 60_000,
          },
        },
        {
          // Checks that need Node-only tools (the OpenAPI validator compiles schemas with
          // `new Function`, which workerd forbids).
          test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"], testTimeout: 60_000 },
        },
        {
          // keel in a real Chromium (playwright-core + Debian's chromium) against a wrangler dev
          // that the tests start; skipped, with a message, when no Chromium is installed.
          test: {
            name: "browser",
            environment: "node",
            include: ["test/browser/**/*.test.ts"],
            testTimeout: 120_000,
            hookTimeout: 240_000,
            // expect.poll's 1 s default is too short on a loaded 2-core machine (the workers
            // project runs beside this one): a page that answers in 1.5 s is not a failure.
            expect: { poll: { timeout: 15_000 } },
          },
        },
      ],
    },
  };
});
