// Types `env` from "cloudflare:workers" as keel's Env (plus the test-only migrations binding).
type KeelEnv = import("./env").Env;
type KeelD1Migration = import("cloudflare:test").D1Migration;
declare namespace Cloudflare {
  interface Env extends KeelEnv {
    TEST_MIGRATIONS: KeelD1Migration[];
  }
}
