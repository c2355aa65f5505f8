import { env } from "cloudflare:workers";
import { AppError } from "../../src/platform/errors";

export type LimiterNamespace = typeof env.RATE_LIMITER;

/**
 * The real RateLimiter namespace, counting the calls that reach a limiter object (any method of
 * its stubs): how a test sees that a request decided in the isolate's memory.
 */
export function countingNamespace(): { ns: LimiterNamespace; calls: () => number } {
  let calls = 0;
  const ns = {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = env.RATE_LIMITER.get(id);
      return new Proxy(stub, {
        // Every property of an RPC stub is a callable method proxy; call it the ordinary way
        // (`.apply` on it would itself be taken for an RPC method).
        get(target, method) {
          if (method === "then") return undefined; // not a promise
          return (...args: unknown[]) => {
            calls++;
            return (target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[method]!(...args);
          };
        },
      });
    },
  } as unknown as LimiterNamespace;
  return { ns, calls: () => calls };
}

/** Runs one admission: true when it passes, false on 429 `rate_limited` (anything else throws). */
export async function admits(take: () => Promise<unknown>): Promise<boolean> {
  try {
    await take();
    return true;
  } catch (err) {
    if (err instanceof AppError && err.code === "rate_limited") return false;
    throw err;
  }
}
