import type { ServiceContext } from "../../platform/context";

/**
 * What matching and delivering alerts runs with: a request's, a cron tick's or a queue batch's
 * ServiceContext (D1, the secrets that seal outbox bodies, the config, the unit of work's instant).
 */
export type DeliveryContext = ServiceContext;
