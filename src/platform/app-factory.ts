import { OpenAPIHono } from "@hono/zod-openapi";
import { AppError } from "./errors";
import type { AppEnv } from "./context";
import { zodFieldErrors } from "./problem";

/**
 * A router whose zod failures become `422 validation_failed` with `errors[]`: every feature
 * builds its routes on one of these.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError("validation_failed", "The request is not valid", {
          errors: zodFieldErrors(result.error.issues),
        });
      }
    },
  });
}
