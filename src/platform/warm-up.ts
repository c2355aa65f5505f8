import type { Env } from "../env";
import { getConfig } from "./config";
import { primaryDb } from "./db";
import { getKeySet } from "./jwt";

/**
 * Work every request needs once per isolate, done while the isolate starts instead of in its
 * first request (issue 20, point 3: the first authenticated read after a restart). None of it is
 * I/O, so it may run at module evaluation:
 * - the configuration's zod parse (the first parse of the schema also builds zod's lazy internals
 *   and compiles its functions: ~15 ms of CPU on the first request otherwise);
 * - the import of the JWT keys (jose's importJWK of each key);
 * - the D1 binding's drizzle client (built without a query: no I/O);
 * - the main router's matcher (hono compiles it on the first match).
 * Nothing here may throw or change behaviour: an invalid configuration or key still fails the
 * request that needs it, exactly as without the warm-up (getConfig / getKeySet run again there).
 */
export function warmUp(env: Env | undefined, router?: { match(method: string, path: string): unknown }): void {
  try {
    router?.match("GET", "/");
  } catch {
    // the request's own match reports it
  }
  if (!env) return;
  try {
    if (env.DB) primaryDb(env);
    const config = getConfig(env);
    if (typeof env.JWT_SIGNING_KEYS === "string" && env.JWT_SIGNING_KEYS !== "") getKeySet(env, config).catch(() => undefined);
  } catch {
    // an invalid configuration: the first request reports it
  }
}
