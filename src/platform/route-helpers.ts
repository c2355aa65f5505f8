import { z } from "@hono/zod-openapi";

export const API = "/api/v1";

/** A JSON request body entry for createRoute. `required` makes a missing/non-JSON body a 400/422, not a skip. */
export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  body: { required: true, description, content: { "application/json": { schema } } },
});

/** A JSON response entry for createRoute. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const NoContent = { description: "Done" } as const;

/** `{id}` path parameter. */
export const IdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });
