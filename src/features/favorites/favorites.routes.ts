import { securedRoute } from "../../identity/secured-route";
import type { App } from "../../platform/context";
import { problemResponses } from "../../platform/problem";
import { API, IdParam, jsonBody, jsonResponse, NoContent } from "../../platform/route-helpers";
import { AddFavoriteInput, FavoritePage, FavoriteSchema, FavoritesQuery, UpdateFavoriteInput } from "./favorites.schemas";
import { listFavorites, removeFavorite, saveFavorite, updateFavorite } from "./favorites.service";

const tags = ["Favorites"];

const saveRoute = securedRoute({ scope: "write:favorites" }, {
  method: "post",
  path: `${API}/me/favorites`,
  tags,
  summary: "Save a tender as a favorite (201), or update the existing favorite of that tender (200)",
  request: jsonBody(AddFavoriteInput),
  responses: {
    201: jsonResponse(FavoriteSchema, "Saved"),
    200: jsonResponse(FavoriteSchema, "Already a favorite: updated"),
    ...problemResponses(400, 404, 422),
  },
});

const listRoute = securedRoute({ scope: "read:favorites" }, {
  method: "get",
  path: `${API}/me/favorites`,
  tags,
  summary: "The user's favorites, newest first, with the tender embedded",
  request: { query: FavoritesQuery },
  responses: { 200: jsonResponse(FavoritePage, "A page of favorites"), ...problemResponses(422) },
});

const updateRoute = securedRoute({ scope: "write:favorites" }, {
  method: "patch",
  path: `${API}/me/favorites/{id}`,
  tags,
  summary: "Edit folder, tags, notes, priority, bid status (lifecycle) or bid amount",
  request: { params: IdParam, ...jsonBody(UpdateFavoriteInput) },
  responses: { 200: jsonResponse(FavoriteSchema, "The favorite"), ...problemResponses(400, 404, 422) },
});

const removeRoute = securedRoute({ scope: "write:favorites" }, {
  method: "delete",
  path: `${API}/me/favorites/{id}`,
  tags,
  summary: "Remove a favorite",
  request: { params: IdParam },
  responses: { 204: NoContent, ...problemResponses(404) },
});

export function registerFavorites(app: App): void {
  app.openapi(saveRoute, async (c) => {
    const { created, favorite } = await saveFavorite(c.var.ctx, c.var.actor, c.req.valid("json"));
    return created ? c.json(favorite, 201) : c.json(favorite, 200);
  });
  app.openapi(listRoute, async (c) => c.json(await listFavorites(c.var.ctx, c.var.actor, c.req.valid("query")), 200));
  app.openapi(updateRoute, async (c) => c.json(await updateFavorite(c.var.ctx, c.var.actor, c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(removeRoute, async (c) => {
    await removeFavorite(c.var.ctx, c.var.actor, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
