import { generateKeyPairSync, randomBytes } from "node:crypto";
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

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
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
              // wrangler.toml ships ENVIRONMENT=production; the suite runs as development.
              miniflare: { bindings: { ...testSecrets(), ENVIRONMENT: "development", TEST_MIGRATIONS: migrations } },
            }),
          ],
          test: {
            name: "workers",
            setupFiles: ["./test/helpers/setup.ts"],
            // A local DNS-over-HTTPS responder for domain verification (issue 17): Node-side, since a test in workerd cannot listen.
            globalSetup: ["./test/helpers/doh-server.ts"],
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
