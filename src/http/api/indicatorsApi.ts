import type { RequestHandler, Router } from "express";
import type { z } from "zod";
import { childIndicators, type ChildIndicators, type MonthResolution } from "../../services/places/childIndicators.js";
import { DEFAULT_CHILD_ZONE_METRES } from "../../services/places/placeTypes.js";
import type { RouterDeps } from "../createApp.js";
import type { ChildIndicatorsResponse } from "./apiSchemas.js";
import { apiActor } from "./bearerAuth.js";

/**
 * The indicators routes of /api/v1, registered on the API's own router so they are listed and
 * documented with the others. `GET /indicators/children`: the child-safety indicators of the staff
 * page, scoped by the token's staff member like the queue (agents: their departments' requests).
 * The zone radius is `deps.map.childZoneMetres` (CHILD_ZONE_METRES), 150 m when the wiring does not pass it.
 */
export function indicatorsApiRoutes(router: Router, deps: RouterDeps, auth: RequestHandler): void {
  router.get("/indicators/children", auth, async (req, res) => {
    const actor = apiActor(req);
    const zoneMetres = deps.map?.childZoneMetres ?? DEFAULT_CHILD_ZONE_METRES;
    const indicators = await deps.db.$transaction((tx) => childIndicators(tx, actor, { now: deps.clock(), zoneMetres }));
    res.json(serializeChildIndicators(indicators));
  });
}

const named = (ref: { id: number; nameAr: string; nameEn: string }) => ({ id: ref.id, nameAr: ref.nameAr, nameEn: ref.nameEn });
const pad = (n: number) => String(n).padStart(2, "0");

function month(m: MonthResolution): z.input<typeof ChildIndicatorsResponse>["resolution"]["thisMonth"] {
  return {
    month: `${m.period.year}-${pad(m.period.month)}`,
    from: m.period.from.toISOString(),
    to: m.period.to.toISOString(),
    childRelated: { n: m.childRelated.n, medianDays: m.childRelated.medianDays },
    others: { n: m.others.n, medianDays: m.others.medianDays },
  };
}

/** The indicators field by field, so anything added to the service's value later stays internal. */
export function serializeChildIndicators(data: ChildIndicators): z.input<typeof ChildIndicatorsResponse> {
  return {
    generatedAt: data.generatedAt.toISOString(),
    scope: data.scope.kind === "all" ? { allDepartments: true, departments: [] } : { allDepartments: false, departments: data.scope.departments },
    zoneMetres: data.zoneMetres,
    openChildRelated: {
      total: data.openChildRelated.total,
      areas: data.openChildRelated.areas.map((row) => ({
        area: row.area && named(row.area),
        open: row.open,
        categories: row.byCategory.map((c) => ({ category: c.category && { code: c.category.code, nameAr: c.category.nameAr, nameEn: c.category.nameEn }, open: c.open })),
      })),
    },
    places: data.places.map((p) => ({
      place: { ...named(p.place), kind: p.place.kind },
      open: p.open,
      oldestOpenCreatedAt: p.oldestCreatedAt ? p.oldestCreatedAt.toISOString() : null,
      oldestOpenAgeDays: p.oldestAgeDays,
    })),
    placesComplete: data.placesComplete,
    resolution: { thisMonth: month(data.resolution.thisMonth), lastMonth: month(data.resolution.lastMonth) },
    perThousandChildren: {
      from: data.rates.from.toISOString(),
      to: data.rates.to.toISOString(),
      areas: data.rates.areas.map((a) => ({ area: named(a.area), childPopulation: a.childPopulation, childRelatedRequests: a.requests, perThousand: a.perThousand })),
      withoutArea: data.rates.withoutArea,
    },
  };
}
