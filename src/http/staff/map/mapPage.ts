import { Router, type Request, type Response } from "express";
import type { z } from "zod";
import { TICKET_STATUSES } from "../../../conversation/types.js";
import { HttpError } from "../../../lib/httpError.js";
import { countUnlocated, exportAreas, exportPlaces, exportRequests, REQUEST_EXPORT_LIMIT, RequestExportFilters } from "../../../services/places/geojsonExport.js";
import { PLACE_KINDS } from "../../../services/places/placeTypes.js";
import type { RouterDeps } from "../../createApp.js";
import { selectField, sharedFilterOptions, textField } from "../components.js";
import { localName } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { staffPage } from "../layout.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { MAP_SCRIPTS, MAP_STYLES, mapFrame, NO_TILES } from "./mapFrame.js";

/** The filters of the map's form; anything else in the query string is ignored. */
const FILTER_KEYS = ["status", "category", "department", "childRelated", "area", "from", "to"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
/** Like the queue, the map opens on what is still to be done. */
const DEFAULT_STATUS = "open";

const INTL_LOCALE = { ar: "ar-LB-u-nu-latn", en: "en-GB" } as const;

/**
 * The staff map, `GET /staff/map`: the requests an officer may see (agents: their departments',
 * as in the queue) as points on a map with the town's places and areas, filtered by a plain GET
 * form that works without scripts; a legend, and downloads of the same data as GeoJSON.
 *
 * Its data, for the page's script (map.js) and the download links, come from
 * `GET /staff/map/{requests,places,areas}.geojson` with the staff session: the GeoJSON export's
 * own queries (services/places/geojsonExport.ts), names in the staff member's language,
 * `Content-Disposition: attachment` with `?download=1`. A bad filter is a 400: the page says
 * which field; the GeoJSON routes answer the staff error page (JSON for scripts).
 */
export function mapPage(deps: RouterDeps): Router {
  const router = Router();
  const settings = deps.map ?? NO_TILES;

  router.get("/map", async (req, res) => {
    const ctx = staffContext(req);
    const query = filterQuery(req);
    const parsed = parseFilters(query, ctx);
    const look = await lookups(deps);
    const { t } = ctx;
    const m = mapText(t);
    if (!parsed.success) {
      const body = html`${pageHead(ctx, null)}${filterForm(ctx, look, query)}`;
      const flash = [{ kind: "error" as const, text: m("errors.title") }, ...errorKeys(parsed.error).map((key) => ({ kind: "error" as const, text: m(`errors.${key}`) }))];
      res.status(400).type("html").send(staffPage(ctx, req.originalUrl, { title: m("title"), section: "map", body, flash }));
      return;
    }
    // The count alone (no rows): the same scoped query the map's data comes from.
    const { total, unlocated } = await deps.db.$transaction(async (tx) => ({
      total: (await exportRequests(tx, ctx.actor, parsed.data, 0)).total,
      unlocated: await countUnlocated(tx, ctx.actor, parsed.data),
    }));
    const search = new URLSearchParams(query).toString();
    const urls = {
      requests: `/staff/map/requests.geojson?${search}`,
      places: "/staff/map/places.geojson",
      areas: "/staff/map/areas.geojson",
    };
    const frame = mapFrame(ctx, settings, {
      id: "staff-map",
      className: "map-large",
      label: m("label"),
      data: { requests: urls.requests, places: urls.places, areas: urls.areas, lang: ctx.locale, labels: JSON.stringify(popupLabels(ctx)) },
    });
    const body = html`${pageHead(ctx, { total, unlocated })}
${filterForm(ctx, look, query)}
<div class="map-layout">
${frame}
${legend(ctx)}
</div>
${downloads(ctx, urls)}`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: m("title"), section: "map", body, scripts: [...MAP_SCRIPTS, "map.js"], styles: MAP_STYLES }));
  });

  router.get("/map/requests.geojson", async (req, res) => {
    const ctx = staffContext(req);
    const parsed = parseFilters(filterQuery(req), ctx);
    if (!parsed.success) throw new HttpError(400, `Bad filter: ${errorKeys(parsed.error).join(", ")}`);
    const { collection, total } = await deps.db.$transaction((tx) => exportRequests(tx, ctx.actor, parsed.data));
    res.set("X-Total-Count", String(total));
    sendGeoJson(req, res, "requests", collection);
  });

  router.get("/map/places.geojson", async (req, res) => {
    const { actor } = staffContext(req);
    sendGeoJson(req, res, "places", await deps.db.$transaction((tx) => exportPlaces(tx, actor.municipalityId)));
  });

  router.get("/map/areas.geojson", async (req, res) => {
    const { actor } = staffContext(req);
    sendGeoJson(req, res, "areas", await deps.db.$transaction((tx) => exportAreas(tx, actor.municipalityId)));
  });

  return router;
}

/** Texts of the map (namespace "map"). */
const mapText =
  (t: Translate): Translate =>
  (key, params) =>
    t(`map:${key}`, params);

/** The form's values, empty fields dropped (an empty select means "any"); the status always set. */
function filterQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = req.query[key];
    if (typeof value === "string" && value.trim() !== "") out[key] = value.trim();
  }
  out.status ??= DEFAULT_STATUS;
  return out;
}

/** The export's filters, with names in the staff member's language. */
function parseFilters(query: Record<string, string>, ctx: StaffContext) {
  return RequestExportFilters.safeParse({ ...query, lang: ctx.locale });
}

/** Which fields were wrong, as keys of map.json's `errors` ("range": from after to). */
function errorKeys(error: z.ZodError): Array<FilterKey | "range"> {
  const keys = error.issues.map((issue): FilterKey | "range" => {
    const field = FILTER_KEYS.find((k) => k === issue.path[0]) ?? "status";
    return field === "from" && issue.code === "custom" ? "range" : field;
  });
  return [...new Set(keys)];
}

async function lookups(deps: RouterDeps) {
  const municipalityId = deps.municipalityId;
  const named = { select: { code: true, nameAr: true, nameEn: true } } as const;
  const [departments, categories, areas] = await Promise.all([
    deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" }, ...named }),
    deps.db.category.findMany({ where: { municipalityId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }], ...named }),
    deps.db.area.findMany({ where: { municipalityId }, orderBy: { id: "asc" }, select: { id: true, nameAr: true, nameEn: true } }),
  ]);
  return { departments, categories, areas };
}
type Lookups = Awaited<ReturnType<typeof lookups>>;

/** The title, and how many requests the map shows (null on a page whose filters could not be read). */
function pageHead(ctx: StaffContext, counts: { total: number; unlocated: number } | null): SafeHtml {
  const m = mapText(ctx.t);
  return html`<div class="page-head">
  <h1>${m("title")}</h1>
  <p class="muted">${m("intro")}</p>
  ${
    counts !== null &&
    html`<p class="map-count" id="map-count" role="status"><strong>${m("count", { count: counts.total })}</strong>${counts.total > REQUEST_EXPORT_LIMIT && html` · ${m("limited", { shown: REQUEST_EXPORT_LIMIT, total: counts.total })}`}
    ${counts.unlocated > 0 && html`<span class="muted"> · ${m("unlocated", { count: counts.unlocated })}</span>`}</p>`
  }
</div>`;
}

/** The filters: a GET form (it works without scripts), folded on small screens by map.js. */
function filterForm(ctx: StaffContext, look: Lookups, query: Record<string, string>): SafeHtml {
  const { t, locale, actor } = ctx;
  const m = mapText(t);
  const { any, statuses, departments, yesNo } = sharedFilterOptions(t, actor, look.departments);
  const active = FILTER_KEYS.filter((k) => k !== "status" && query[k] !== undefined).length + (query.status !== DEFAULT_STATUS ? 1 : 0);
  return html`<details class="card map-filters" id="map-filters" open>
  <summary>${m("filters.title")}${active > 0 && html` <span class="badge">${active}</span>`}</summary>
  <form method="get" action="/staff/map" role="search" class="filters">
    <div class="filter-grid">
      ${selectField(t("filters.status"), "status", statuses, query.status)}
      ${selectField(t("filters.category"), "category", [any, ...look.categories.map((c) => ({ value: c.code, label: localName(c, locale) }))], query.category)}
      ${selectField(t("filters.department"), "department", [any, ...departments.map((d) => ({ value: d.code, label: localName(d, locale) }))], query.department)}
      ${selectField(t("filters.childRelated"), "childRelated", yesNo, query.childRelated)}
      ${selectField(m("filters.area"), "area", [any, ...look.areas.map((a) => ({ value: String(a.id), label: localName(a, locale) }))], query.area)}
      ${textField(m("filters.from"), "from", query.from, { type: "date", dir: "ltr" })}
      ${textField(m("filters.to"), "to", query.to, { type: "date", dir: "ltr" })}
    </div>
    <div class="actions">
      <button type="submit" class="btn btn-primary">${t("filters.apply")}</button>
      <a class="btn btn-ghost" href="/staff/map">${t("filters.reset")}</a>
    </div>
  </form>
</details>`;
}

/** What the colours and rings mean; map.js paints the swatches in the map's own colours. */
function legend(ctx: StaffContext): SafeHtml {
  const { t } = ctx;
  const m = mapText(t);
  const item = (swatch: HtmlValue, label: string) => html`<li>${swatch}<span>${label}</span></li>`;
  return html`<aside class="card map-legend" aria-labelledby="map-legend-title">
  <h2 id="map-legend-title">${m("legend.title")}</h2>
  <h3>${m("legend.requests")}</h3>
  <ul class="legend-list">
    ${TICKET_STATUSES.map((s) => item(html`<span class="legend-swatch legend-dot" data-status="${s}" aria-hidden="true"></span>`, t(`status.${s}`)))}
    ${item(html`<span class="legend-swatch legend-dot legend-child" aria-hidden="true"></span>`, m("legend.child"))}
    ${item(html`<span class="legend-swatch legend-dot legend-approximate" aria-hidden="true"></span>`, m("legend.approximate"))}
    ${item(html`<span class="legend-swatch legend-cluster" aria-hidden="true">3</span>`, m("legend.cluster"))}
    ${item(html`<span class="legend-swatch legend-cluster legend-cluster-child" aria-hidden="true">3</span>`, m("legend.clusterChild"))}
  </ul>
  <h3>${m("legend.places")}</h3>
  <ul class="legend-list">
    ${PLACE_KINDS.map((k) => item(html`<span class="legend-swatch legend-dot legend-small" data-kind="${k}" aria-hidden="true"></span>`, t(`places:kinds.${k}`)))}
    ${item(html`<span class="legend-swatch legend-dot legend-small legend-child-place" aria-hidden="true"></span>`, m("legend.childPlace"))}
    ${item(html`<span class="legend-swatch legend-area" aria-hidden="true"></span>`, m("legend.area"))}
  </ul>
</aside>`;
}

function downloads(ctx: StaffContext, urls: { requests: string; places: string; areas: string }): SafeHtml {
  const m = mapText(ctx.t);
  const download = (url: string) => `${url}${url.includes("?") ? "&" : "?"}download=1`;
  return html`<section class="card map-downloads">
  <h2>${m("download.title")}</h2>
  <p class="actions">
    <a class="btn btn-secondary" href="${download(urls.requests)}" download>${m("download.requests")}</a>
    <a class="btn btn-ghost" href="${download(urls.places)}" download>${m("download.places")}</a>
    <a class="btn btn-ghost" href="${download(urls.areas)}" download>${m("download.areas")}</a>
  </p>
  <p class="hint">${m("download.hint")}</p>
</section>`;
}

/**
 * The words map.js puts in popups and the layer control, in the staff member's language. Templates
 * keep `{name}` slots the script fills with text (never HTML).
 */
function popupLabels(ctx: StaffContext) {
  const { t, locale } = ctx;
  const m = mapText(t);
  return {
    intl: INTL_LOCALE[locale],
    status: Object.fromEntries(TICKET_STATUSES.map((s) => [s, t(`status.${s}`)])),
    layers: { requests: m("layers.requests"), places: m("layers.places"), areas: m("layers.areas") },
    open: m("popup.open"),
    filed: m("popup.filed", { date: "{date}" }),
    area: m("popup.area", { area: "{area}" }),
    near: m("popup.near", { place: "{place}" }),
    approximate: m("popup.approximate"),
    noCategory: m("popup.noCategory"),
    child: {
      zone: m("popup.childZone", { metres: "{metres}", place: "{place}" }),
      at: m("popup.childAt", { place: "{place}" }),
      zoneNoMetres: m("popup.childZoneNoMetres", { place: "{place}" }),
      zoneUnnamed: m("popup.childZoneUnnamed"),
      category: m("popup.childCategory"),
      words: m("popup.childWords"),
    },
    loadFailed: m("loadFailed"),
  };
}

/** A GeoJSON answer; a file to save with `?download=1`. */
function sendGeoJson(req: Request, res: Response, name: "requests" | "places" | "areas", body: object): void {
  if (req.query.download === "1") res.attachment(`${name}.geojson`);
  res.type("application/geo+json").send(JSON.stringify(body));
}
