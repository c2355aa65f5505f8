import { z } from "@hono/zod-openapi";
import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, jsonResponse } from "../../platform/route-helpers";
import { tenderFacets } from "./facets.service";

const Facet = z.object({ value: z.string(), count: z.number().int() }).openapi("TenderFacet");
export const TenderFacets = z
  .object({
    states: z.array(Facet).openapi({ description: "Most common first; spellings that match alike (case, accents) count as one" }),
    departments: z.array(Facet),
  })
  .openapi("TenderFacets");

const facetsRoute = securedRoute({ scope: "read:tenders" }, {
  method: "get",
  path: `${API}/tenders/facets`,
  tags: ["Tenders"],
  summary: "The known states and departments, with tender counts, for pickers (cached for TENDER_FACETS_CACHE_SECONDS; an ingest refreshes it)",
  responses: { 200: jsonResponse(TenderFacets, "States and departments with counts"), ...problemResponses() },
});

/** Registered before the tenders routes, so `/tenders/facets` is not read as a tender id. */
export function registerTenderFacets(app: App): void {
  app.openapi(facetsRoute, async (c) => c.json(await tenderFacets(c.var.ctx), 200));
}
