import type { Env } from "../../env";
import type { OutboxContext } from "../../email/outbox.repo";

/** What matching and delivering alerts needs: D1, the secrets (to seal outbox bodies) and the clock. */
export type DeliveryContext = OutboxContext & { env: Env };
