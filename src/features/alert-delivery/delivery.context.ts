import type { ServiceContext } from "../../platform/context";

/**
 * What matching and delivering alerts reads of the ServiceContext: D1, the secrets (to seal outbox
 * bodies), the config and the unit of work's instant. A request, a cron tick or a queue batch passes its own.
 */
export type DeliveryContext = Pick<ServiceContext, "db" | "env" | "config" | "now">;
