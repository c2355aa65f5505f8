/**
 * vitest globalSetup of the workers project: two real OpenID providers (test/helpers/
 * oidc-provider-server.ts) on the local ports vitest.config.ts picked, so the worker under test
 * talks OpenID Connect over real HTTP. "test" is the provider keel is configured with; "other" is a
 * second, independent instance (its own keys and issuer) with the same client, for mix-up tests.
 */
import type { TestProject } from "vitest/node";
import { startTestProvider } from "./oidc-provider-server";

export default async function setup(project: TestProject) {
  const ports = (process.env.KEEL_OIDC_TEST_PORTS ?? "").split(",").map(Number);
  const redirectUris = (process.env.KEEL_OIDC_TEST_REDIRECTS ?? "").split(",");
  if (ports.length !== 2 || ports.some((p) => !p)) throw new Error("KEEL_OIDC_TEST_PORTS is not set by vitest.config.ts");
  const stops = await Promise.all(ports.map((port) => startTestProvider(port, redirectUris)));
  project.provide("oidcIssuers", ports.map((p) => `http://127.0.0.1:${p}`));
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    oidcIssuers: string[];
  }
}
