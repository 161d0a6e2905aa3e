import type { Request, RequestHandler, Response, Router as ExpressRouter } from "express";
import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import { importGeoJson, insideLebanon, MAX_GEOJSON_BYTES, MAX_GEOJSON_FEATURES, type GeoJsonImportResult, type ImportLayer } from "../../../services/places/geojsonImport.js";
import { createPlace, deleteArea, deletePlace, findPlace, listAreas, listPlaces, setAreaChildPopulation, updatePlace, type PlaceInput } from "../../../services/places/places.js";
import { PLACE_KINDS, type PlaceRecord } from "../../../services/places/placeTypes.js";
import type { RouterDeps } from "../../createApp.js";
import { authenticate, requireAdmin, requireCsrf } from "../auth.js";
import { checkboxField, importFailedCard, selectField, technicalDetails, textField } from "../components.js";
import { redirectWithFlash, takeFlash, type FlashMessage } from "../flash.js";
import { isolating } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { MAP_SCRIPTS, MAP_STYLES, mapFrame, NO_TILES, type MapSettings } from "../map/mapFrame.js";
import { readMultipartBody } from "../multipartUpload.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { checkbox, parseId } from "./adminForms.js";

/**
 * Admin pages for the town's places (/staff/admin/places) and areas (/staff/admin/areas): lists,
 * a form to add, edit and remove a place, the child population of each area, and a GeoJSON upload
 * for each layer (all or nothing, with the numbered errors). Every change tells the places-changed
 * listeners (src/services/places/places.ts).
 *
 * `placesAdmin` and `areasAdmin` are mounted under the admin router (admins only, CSRF checked by
 * the staff router). `placesUploads` takes the multipart uploads and, like the account import,
 * must be added to the staff router BEFORE its `authenticate(...), requireCsrf` line: it checks
 * sign-in, role and CSRF itself.
 */

export const PLACES_BASE = "/staff/admin/places";
export const AREAS_BASE = "/staff/admin/areas";
/** A page with a place form carries the map to click on (placePicker.js). */
const PICKER_PAGE = { scripts: [...MAP_SCRIPTS, "placePicker.js"], styles: MAP_STYLES };
/** The upload: the file and the form's fields. */
const MAX_UPLOAD_BYTES = MAX_GEOJSON_BYTES + 64 * 1024;

const p = (t: Translate): Translate => (key, params) => t(`places:${key}`, params);

const coordinate = (min: number, max: number, message: string) =>
  z
    .string()
    .trim()
    .regex(/^-?\d{1,3}(\.\d{1,12})?$/, message)
    .transform(Number)
    .pipe(z.number().min(min, message).max(max, message));

const PlaceForm = z
  .object({
    kind: z.enum(PLACE_KINDS, { error: "form.kind" }),
    nameAr: z.string({ error: "form.nameAr" }).trim().min(1, "form.nameAr").max(200, "form.nameAr"),
    nameEn: z.string({ error: "form.nameEn" }).trim().min(1, "form.nameEn").max(200, "form.nameEn"),
    aliases: z
      .string()
      .max(20_000, "form.aliases")
      .catch("")
      .transform((text) => [...new Set(text.split(/\r?\n/).map((a) => a.trim().replace(/\s+/g, " ")).filter((a) => a !== ""))])
      .pipe(z.array(z.string().max(200, "form.aliases")).max(50, "form.aliases")),
    childRelated: checkbox,
    latitude: coordinate(-90, 90, "form.latitude"),
    longitude: coordinate(-180, 180, "form.longitude"),
  })
  .superRefine((form, ctx) => {
    if (insideLebanon(form.longitude, form.latitude)) return;
    ctx.addIssue({ code: "custom", path: ["latitude"], message: insideLebanon(form.latitude, form.longitude) ? "form.swapped" : "form.outsideLebanon" });
  });

const ChildPopulationForm = z.object({
  childPopulation: z
    .string()
    .trim()
    .regex(/^\d{0,8}$/, "form.childPopulation")
    .transform((s) => (s === "" ? null : Number(s))),
});

function formErrors(t: Translate, error: z.ZodError): FlashMessage[] {
  const keys = [...new Set(error.issues.map((i) => (i.message.startsWith("form.") ? i.message : "form.kind")))];
  return keys.map((key) => ({ kind: "error", text: p(t)(key) }));
}

const yes = (t: Translate, on: boolean) => (on ? html`<span class="tick" aria-label="${p(t)("yes")}">✓</span>` : html`<span class="muted" aria-label="${p(t)("no")}">—</span>`);
const sourceLabel = (t: Translate, source: string) => (["manual", "import", "sample"].includes(source) ? p(t)(`sources.${source}`) : source);
const fixed = (x: number) => x.toFixed(6);

type Outcome = { kind: "message"; text: string } | { kind: "failed"; error: unknown } | { kind: "result"; result: GeoJsonImportResult };

function outcomeCard(t: Translate, outcome: Outcome | null): HtmlValue {
  if (!outcome) return null;
  const s = p(t);
  if (outcome.kind === "message") return html`<p class="flash flash-error" role="alert">${outcome.text}</p>`;
  if (outcome.kind === "failed") return importFailedCard(t, outcome.error);
  const { result } = outcome;
  if (result.ok) {
    return html`<section class="card import-result" role="status"><h2>${s("upload.importedTitle")}</h2>
<p>${s("upload.imported", { created: result.created, updated: result.updated })}</p>
${result.skipped > 0 && html`<p class="muted">${s("upload.skipped", { count: result.skipped })}</p>`}</section>`;
  }
  const more = result.errorCount - result.errors.length;
  // Coordinates, ids and geometry types keep their own order inside the sentence.
  const reason = isolating(s);
  return html`<section class="card table-card import-errors" role="alert"><h2>${s("upload.refusedTitle")}</h2>
<p>${s("upload.refused", { count: result.errorCount })}</p>
<table class="admin-table">
  <thead><tr><th>${s("upload.feature")}</th><th>${s("upload.reason")}</th></tr></thead>
  <tbody>${result.errors.map(
    (e) => html`<tr class="import-error"><td>${e.feature > 0 ? e.feature : s("upload.wholeFile")}</td><td>${reason(`errors.${e.key}`, e.params)}${technicalDetails(t, e.detail)}</td></tr>`,
  )}</tbody>
</table>
${more > 0 && html`<p class="muted">${s("upload.more", { count: more })}</p>`}
</section>`;
}

function uploadForm(ctx: StaffContext, layer: ImportLayer): SafeHtml {
  const s = p(ctx.t);
  const action = layer === "places" ? `${PLACES_BASE}/import` : `${AREAS_BASE}/import`;
  return html`<section class="card form-card"><h2>${s(layer === "places" ? "upload.placesTitle" : "upload.areasTitle")}</h2>
<form method="post" action="${action}" enctype="multipart/form-data" class="form-grid">
  ${csrfField(ctx)}
  <label class="field"><span>${s("upload.file")}</span><input type="file" name="file" accept=".geojson,.json,application/geo+json,application/json" required></label>
  <p class="hint field-wide">${s(layer === "places" ? "upload.placesHint" : "upload.areasHint")}</p>
  <p class="hint field-wide">${s("upload.limit", { mb: MAX_GEOJSON_BYTES / 2 ** 20, features: MAX_GEOJSON_FEATURES })}</p>
  <div class="actions"><button type="submit" class="btn btn-primary">${s("upload.submit")}</button></div>
</form></section>`;
}

interface PlaceValues {
  kind: string;
  nameAr: string;
  nameEn: string;
  aliases: string[];
  childRelated: boolean;
  latitude: number | string;
  longitude: number | string;
}

/**
 * A map to click on to place the point (placePicker.js), with the town's places and areas: it fills
 * the latitude and longitude fields, which stay plain inputs (the form works without scripts).
 */
function placePicker(ctx: StaffContext, settings: MapSettings): SafeHtml {
  const s = p(ctx.t);
  return html`<div class="field field-wide place-picker">
    ${mapFrame(ctx, settings, { id: "place-picker", className: "map-picker", label: s("places.mapLabel"), data: { places: "/staff/map/places.geojson", areas: "/staff/map/areas.geojson", lang: ctx.locale } })}
    <small class="hint">${s("places.mapHint")}</small></div>`;
}

function placeFields(ctx: StaffContext, values: PlaceValues, settings: MapSettings): SafeHtml {
  const s = p(ctx.t);
  return html`${selectField(s("places.kind"), "kind", PLACE_KINDS.map((k) => ({ value: k, label: s(`kinds.${k}`) })), values.kind, { required: true })}
  ${textField(s("places.nameAr"), "nameAr", values.nameAr, { required: true, maxlength: 200, dir: "rtl", lang: "ar" })}
  ${textField(s("places.nameEn"), "nameEn", values.nameEn, { required: true, maxlength: 200, dir: "ltr", lang: "en" })}
  ${textField(s("places.latitude"), "latitude", values.latitude, { required: true, dir: "ltr", hint: s("places.coordinatesHint") })}
  ${textField(s("places.longitude"), "longitude", values.longitude, { required: true, dir: "ltr" })}
  ${placePicker(ctx, settings)}
  <label class="field field-wide"><span>${s("places.aliases")}</span>
    <textarea name="aliases" rows="5" dir="auto">${values.aliases.join("\n")}</textarea>
    <small class="hint">${s("places.aliasesHint")}</small></label>
  <fieldset class="field checks field-wide"><legend>${s("places.childRelated")}</legend>
    ${checkboxField(s("places.childRelated"), "childRelated", values.childRelated)}
  </fieldset>`;
}

async function renderPlaces(req: Request, res: Response, deps: RouterDeps, outcome: Outcome | null, status: number): Promise<void> {
  const ctx = staffContext(req);
  const { t, locale } = ctx;
  const s = p(t);
  const places = await listPlaces(deps.db, deps.municipalityId);
  const other = locale === "ar" ? "en" : "ar";
  const name = (place: PlaceRecord, l: "ar" | "en") => (l === "ar" ? place.nameAr : place.nameEn);
  const body = html`<div class="page-head"><h1>${s("places.title")} <span class="subtitle">${s("places.count", { count: places.length })}</span></h1>
  <p class="muted">${s("places.intro")}</p><p><a href="${AREAS_BASE}">${s("places.areasLink")}</a></p></div>
${outcomeCard(t, outcome)}
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${s("places.kind")}</th><th>${s("places.name")}</th><th>${s("places.aliases")}</th><th>${s("places.childRelated")}</th><th>${s("places.coordinates")}</th><th>${s("places.source")}</th><th></th></tr></thead>
  <tbody>${
    places.length === 0
      ? html`<tr class="empty"><td colspan="7">${s("places.empty")}</td></tr>`
      : places.map(
          (place) => html`<tr>
    <td>${s(`kinds.${place.kind}`)}</td>
    <td><strong dir="auto">${name(place, locale)}</strong><br><small class="muted" lang="${other}" dir="auto">${name(place, other)}</small></td>
    <td><small dir="auto">${place.aliases.join(" · ")}</small></td>
    <td>${yes(t, place.childRelated)}</td>
    <td><span class="mono" dir="ltr">${fixed(place.latitude)}, ${fixed(place.longitude)}</span></td>
    <td>${sourceLabel(t, place.source)}</td>
    <td><a class="btn btn-ghost btn-small" href="${PLACES_BASE}/${place.id}">${s("places.edit")}</a></td>
  </tr>`,
        )
  }</tbody>
</table></div>
<section class="card form-card"><h2>${s("places.add")}</h2>
<form method="post" action="${PLACES_BASE}" class="form-grid">
  ${csrfField(ctx)}
  ${placeFields(ctx, { kind: "landmark", nameAr: "", nameEn: "", aliases: [], childRelated: false, latitude: "", longitude: "" }, deps.map ?? NO_TILES)}
  <div class="actions"><button type="submit" class="btn btn-primary">${s("places.addSubmit")}</button></div>
</form></section>
${uploadForm(ctx, "places")}`;
  res
    .status(status)
    .type("html")
    .send(staffPage(ctx, PLACES_BASE, { title: s("places.title"), section: "places", body, ...PICKER_PAGE, flash: outcome ? [] : takeFlash(req, res, deps) }));
}

async function renderAreas(req: Request, res: Response, deps: RouterDeps, outcome: Outcome | null, status: number): Promise<void> {
  const ctx = staffContext(req);
  const { t, locale } = ctx;
  const s = p(t);
  const areas = await listAreas(deps.db, deps.municipalityId);
  const other = locale === "ar" ? "en" : "ar";
  const body = html`<div class="page-head"><h1>${s("areas.title")} <span class="subtitle">${s("areas.count", { count: areas.length })}</span></h1>
  <p class="muted">${s("areas.intro")}</p><p><a href="${PLACES_BASE}">${s("areas.placesLink")}</a></p></div>
${outcomeCard(t, outcome)}
<div class="card table-card"><table class="admin-table">
  <thead><tr><th>${s("areas.name")}</th><th>${s("areas.shape")}</th><th>${s("areas.childPopulation")}</th><th>${s("areas.source")}</th><th></th></tr></thead>
  <tbody>${
    areas.length === 0
      ? html`<tr class="empty"><td colspan="5">${s("areas.empty")}</td></tr>`
      : areas.map(
          (area) => html`<tr>
    <td><strong dir="auto">${locale === "ar" ? area.nameAr : area.nameEn}</strong><br><small class="muted" lang="${other}" dir="auto">${other === "ar" ? area.nameAr : area.nameEn}</small></td>
    <td>${area.geometry === null ? html`<span class="flag flag-stop">${s("areas.unreadable")}</span>` : s(area.geometry.type === "Polygon" ? "areas.polygon" : "areas.multiPolygon")}</td>
    <td><form method="post" action="${AREAS_BASE}/${area.id}" class="inline">
      ${csrfField(ctx)}
      <input type="number" name="childPopulation" min="0" max="99999999" step="1" value="${area.childPopulation ?? ""}" aria-label="${s("areas.childPopulation")}" title="${s("areas.childPopulationHint")}">
      <button type="submit" class="btn btn-ghost btn-small">${s("areas.save")}</button></form></td>
    <td>${sourceLabel(t, area.source)}</td>
    <td><form method="post" action="${AREAS_BASE}/${area.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-ghost btn-small">${s("areas.remove")}</button></form></td>
  </tr>`,
        )
  }</tbody>
</table></div>
${uploadForm(ctx, "areas")}`;
  res
    .status(status)
    .type("html")
    .send(staffPage(ctx, AREAS_BASE, { title: s("areas.title"), section: "places", body, flash: outcome ? [] : takeFlash(req, res, deps) }));
}

/** /staff/admin/places: the list, the add form, a place's edit page, removal. */
export function placesAdmin(deps: RouterDeps): ExpressRouter {
  const router = Router();
  const municipalityId = deps.municipalityId;

  router.get("/", async (req, res) => renderPlaces(req, res, deps, null, 200));

  router.post("/", async (req, res) => {
    const { t } = staffContext(req);
    const form = PlaceForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, PLACES_BASE, formErrors(t, form.error));
    await createPlace(deps.db, municipalityId, form.data satisfies PlaceInput);
    redirectWithFlash(res, deps, PLACES_BASE, [{ kind: "success", text: p(t)("places.created") }]);
  });

  router.get("/:id", async (req, res) => {
    const ctx = staffContext(req);
    const s = p(ctx.t);
    const place = await findPlace(deps.db, municipalityId, parseId(req.params.id));
    if (!place) throw new HttpError(404, "No such place");
    const title = ctx.locale === "ar" ? place.nameAr : place.nameEn;
    const body = html`<div class="page-head"><p class="crumbs"><a href="${PLACES_BASE}">${s("places.title")}</a></p>
  <h1><bdi>${title}</bdi></h1><p class="muted">${s(`kinds.${place.kind}`)} · ${sourceLabel(ctx.t, place.source)}${place.externalId && html` · <span class="mono" dir="ltr">${place.externalId}</span>`}</p></div>
<section class="card form-card"><h2>${s("places.editTitle")}</h2><form method="post" action="${PLACES_BASE}/${place.id}" class="form-grid">
  ${csrfField(ctx)}
  ${placeFields(ctx, { ...place, latitude: fixed(place.latitude), longitude: fixed(place.longitude) }, deps.map ?? NO_TILES)}
  <div class="actions"><button type="submit" class="btn btn-primary">${s("places.save")}</button> <a class="btn btn-ghost" href="${PLACES_BASE}">${s("places.cancel")}</a></div>
</form></section>
<section class="card"><h2>${s("places.removeTitle")}</h2><p class="hint">${s("places.removeHint")}</p>
<form method="post" action="${PLACES_BASE}/${place.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-danger">${s("places.remove")}</button></form></section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title, section: "places", body, ...PICKER_PAGE, flash: takeFlash(req, res, deps) }));
  });

  router.post("/:id", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const form = PlaceForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, `${PLACES_BASE}/${id}`, formErrors(t, form.error));
    if (!(await updatePlace(deps.db, municipalityId, id, form.data))) throw new HttpError(404, "No such place");
    redirectWithFlash(res, deps, PLACES_BASE, [{ kind: "success", text: p(t)("places.saved") }]);
  });

  router.post("/:id/delete", async (req, res) => {
    const { t } = staffContext(req);
    if (!(await deletePlace(deps.db, municipalityId, parseId(req.params.id)))) throw new HttpError(404, "No such place");
    redirectWithFlash(res, deps, PLACES_BASE, [{ kind: "success", text: p(t)("places.removed") }]);
  });

  return router;
}

/** /staff/admin/areas: the list, each area's child population, removal. */
export function areasAdmin(deps: RouterDeps): ExpressRouter {
  const router = Router();
  const municipalityId = deps.municipalityId;

  router.get("/", async (req, res) => renderAreas(req, res, deps, null, 200));

  router.post("/:id", async (req, res) => {
    const { t } = staffContext(req);
    const id = parseId(req.params.id);
    const form = ChildPopulationForm.safeParse(req.body ?? {});
    if (!form.success) return redirectWithFlash(res, deps, AREAS_BASE, formErrors(t, form.error));
    if (!(await setAreaChildPopulation(deps.db, municipalityId, id, form.data.childPopulation))) throw new HttpError(404, "No such area");
    redirectWithFlash(res, deps, AREAS_BASE, [{ kind: "success", text: p(t)("areas.saved") }]);
  });

  router.post("/:id/delete", async (req, res) => {
    const { t } = staffContext(req);
    if (!(await deleteArea(deps.db, municipalityId, parseId(req.params.id)))) throw new HttpError(404, "No such area");
    redirectWithFlash(res, deps, AREAS_BASE, [{ kind: "success", text: p(t)("areas.removed") }]);
  });

  return router;
}

/**
 * The GeoJSON uploads (multipart): POST /admin/places/import and /admin/areas/import. Add to the
 * staff router BEFORE its `authenticate(...), requireCsrf` line; they bring their own checks.
 */
export function placesUploads(router: ExpressRouter, deps: RouterDeps, options: { maxUploadBytes?: number } = {}): void {
  const maxBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  for (const layer of ["places", "areas"] as const) {
    const render = layer === "places" ? renderPlaces : renderAreas;
    router.post(`/admin/${layer}/import`, authenticate(deps), requireAdmin, readUpload(maxBytes), requireCsrf, async (req, res) => {
      const s = p(staffContext(req).t);
      const file = res.locals.placesUpload as Buffer | undefined;
      if (!file || file.length === 0) return render(req, res, deps, { kind: "message", text: s("upload.missingFile") }, 400);
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(file);
      } catch {
        return render(req, res, deps, { kind: "message", text: s("upload.encoding") }, 422);
      }
      let result: GeoJsonImportResult;
      try {
        result = await importGeoJson(deps.db, deps.municipalityId, layer, text, deps.clock(), { source: "import" });
      } catch (error) {
        // One transaction: nothing was written. The database's message is for whoever fixes it.
        deps.logger.error({ err: error, layer }, "GeoJSON import failed");
        return render(req, res, deps, { kind: "failed", error }, 500);
      }
      await render(req, res, deps, { kind: "result", result }, result.ok ? 200 : 422);
    });
  }
}

/**
 * Reads the upload into memory: its fields become `req.body` (so `requireCsrf` finds `_csrf`), the
 * `file` part goes to `res.locals.placesUpload`. A body over the limit is a 413 (the staff error
 * page explains it); nothing is read beyond the limit.
 */
const readUpload =
  (maxBytes: number): RequestHandler =>
  async (req, res, next) => {
    const body = await readMultipartBody(req, res, maxBytes);
    if (!body) throw new HttpError(413, "Upload too large");
    const file = body.files.find((part) => part.name === "file" && (part.filename !== "" || part.data.length > 0));
    req.body = body.fields;
    res.locals.placesUpload = file?.data;
    next();
  };
