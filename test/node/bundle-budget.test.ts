import { describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs script without types
import { measureBundle } from "../../bench/bundle.mjs";
import { STARTUP_GZIP_BUDGET } from "./startup-budget";

interface Module {
  name: string;
  startup: boolean;
  raw: number;
  gzip: number;
  holds: string[];
}
interface Measurement {
  startup: { raw: number; gzip: number; modules: number };
  lazy: Module[];
  dominant: [string, number][];
  startupInputs: string[];
}


/** Rarely used code that must stay out of the startup modules (loaded by a dynamic import()). */
const LAZY = ["@simplewebauthn/server", "asn1js", "@peculiar/x509", "oauth4webapi", "bcryptjs", "src/features/auth/common-passwords.ts", "src/features/admin/admin-import.service.ts"];

describe("worker bundle (esbuild build, ~2 s; deterministic byte sizes)", () => {
  let measured: Promise<Measurement> | undefined;
  const measure = () => (measured ??= measureBundle() as Promise<Measurement>);

  it(`the startup modules stay within ${STARTUP_GZIP_BUDGET / 1024} KiB gzip`, async () => {
    const { startup, dominant } = await measure();
    const top = dominant.slice(0, 8).map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} KiB`).join(", ");
    expect(startup.gzip, `startup is ${(startup.gzip / 1024).toFixed(1)} KiB gzip; it holds mostly: ${top}`).toBeLessThanOrEqual(STARTUP_GZIP_BUDGET);
  });

  it("passkeys, OpenID (oauth4webapi), bcrypt, the common-password list and the admin import load on first use only", async () => {
    const { startupInputs, lazy } = await measure();
    expect(startupInputs.some((f) => f.startsWith("src/app.ts"))).toBe(true);
    expect(LAZY.filter((k) => startupInputs.some((f) => f.startsWith(k)))).toEqual([]);
    expect(lazy.length).toBeGreaterThanOrEqual(5);
  });

  it("GET /me's routes and the identity checks load at startup: the first read after a restart imports nothing", async () => {
    const { startupInputs } = await measure();
    for (const f of ["src/features/users/me.routes.ts", "src/identity/authenticate.ts", "src/identity/grants.repo.ts"]) expect(startupInputs, f).toContain(f);
  });
});
