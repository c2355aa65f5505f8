import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { TenderSchema } from "../tenders/tenders.schemas";
import { recommend } from "./recommendations.service";

const RecommendationsQuery = z.object({ limit: z.coerce.number().int().min(1).max(50).default(10) });

const RecommendationsSchema = z
  .object({
    items: z.array(
      z.object({
        tender: TenderSchema,
        score: z.number(),
        reasons: z.array(z.string()).openapi({ example: ["keyword: bridge", "state: Bihar", "department of your favorites: Public Works Department"] }),
      }),
    ),
    reason: z.string().optional().openapi({ description: "Why the list is empty (recommendations off, or nothing to go on)" }),
  })
  .openapi("Recommendations");

const route = securedRoute({ scope: "read:tenders" }, {
  method: "get",
  path: `${API}/me/recommendations`,
  tags: ["Recommendations"],
  summary:
    "Open tenders ranked by profile fit (sectors, specializations and preferred types as keywords, operating states, value range) and behaviour (favorites' departments and states, viewed tenders); favorites are skipped. Open one with GET /tenders/{id}?source=recommendation",
  request: { query: RecommendationsQuery },
  responses: { 200: jsonResponse(RecommendationsSchema, "Ranked tenders with their reasons"), ...problemResponses(422) },
});

export function registerRecommendations(app: App): void {
  app.openapi(route, async (c) => c.json(await recommend(c.var.ctx, c.var.actor, c.req.valid("query").limit), 200));
}
