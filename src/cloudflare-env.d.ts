// Types `env` from "cloudflare:workers" as keel's Env (plus the test-only migrations binding).
// worker-configuration.d.ts (`wrangler types`) declares Cloudflare.Env with the generated
// bindings; this adds the rest of keel's Env and narrows the queues to their message types.
type KeelEnv = import("./env").Env;
type KeelD1Migration = import("cloudflare:test").D1Migration;
declare namespace Cloudflare {
  interface Env extends Omit<KeelEnv, keyof WranglerEnv> {
    EMAIL_QUEUE: KeelEnv["EMAIL_QUEUE"];
    ALERT_MATCHING_QUEUE: KeelEnv["ALERT_MATCHING_QUEUE"];
    TEST_MIGRATIONS: KeelD1Migration[];
  }
}
