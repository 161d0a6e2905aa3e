import type { RequestHandler, Response, Router } from "express";
import type { z } from "zod";
import { exportAreas, exportPlaces, exportRequests, REQUEST_EXPORT_LIMIT } from "../../services/places/geojsonExport.js";
import type { RouterDeps } from "../createApp.js";
import { parseInput, RequestsGeoJsonQuery, type AreaFeatureCollection, type PlaceFeatureCollection, type RequestFeatureCollection } from "./apiSchemas.js";
import { apiActor } from "./bearerAuth.js";

/**
 * The GeoJSON routes of /api/v1 (RFC 7946, application/geo+json), registered on the API's own
 * router so they are listed and documented with the others: requests as points (scoped like the
 * queue: agents get their departments' requests), the town's places as points and its areas as
 * polygons. They open in QGIS and geojson.io as they are.
 */
export function geoRoutes(router: Router, deps: RouterDeps, auth: RequestHandler): void {
  router.get("/requests.geojson", auth, async (req, res) => {
    const actor = apiActor(req);
    const filters = parseInput(RequestsGeoJsonQuery, req.query, "query string");
    const { collection, total } = await deps.db.$transaction((tx) => exportRequests(tx, actor, filters));
    res.set("X-Total-Count", String(total));
    res.set("X-Result-Limit", String(REQUEST_EXPORT_LIMIT));
    sendGeoJson(res, collection satisfies z.input<typeof RequestFeatureCollection>);
  });

  router.get("/places.geojson", auth, async (req, res) => {
    const actor = apiActor(req);
    const collection = await deps.db.$transaction((tx) => exportPlaces(tx, actor.municipalityId));
    sendGeoJson(res, collection satisfies z.input<typeof PlaceFeatureCollection>);
  });

  router.get("/areas.geojson", auth, async (req, res) => {
    const actor = apiActor(req);
    const collection = await deps.db.$transaction((tx) => exportAreas(tx, actor.municipalityId));
    sendGeoJson(res, collection satisfies z.input<typeof AreaFeatureCollection>);
  });
}

function sendGeoJson(res: Response, body: object): void {
  res.type("application/geo+json").send(JSON.stringify(body));
}
