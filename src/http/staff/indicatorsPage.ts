import type { Request, RequestHandler, Response, Router } from "express";
import type { i18n } from "i18next";
import type { Locale } from "../../conversation/types.js";
import { MissingTranslationError } from "../../i18n/render.js";
import { childIndicators, ZONE_TICKET_LIMIT, type CategoryRef, type ChildIndicators, type MonthPeriod, type NamedRef } from "../../services/places/childIndicators.js";
import { childIndicatorsCsv } from "../../services/places/childIndicatorsCsv.js";
import { DEFAULT_CHILD_ZONE_METRES } from "../../services/places/placeTypes.js";
import { beirutTime } from "../../services/surveys/recurrence.js";
import type { RouterDeps } from "../createApp.js";
import { authenticate } from "./auth.js";
import { departmentLabel, formatDate, formatDateTime, localName } from "./format.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { staffPage } from "./layout.js";
import { maybeStaffContext, staffContext, type StaffContext, type Translate } from "./staffContext.js";

/** What the indicators need beyond the routers' usual wiring: the child-zone radius (CHILD_ZONE_METRES). */
export type IndicatorsDeps = RouterDeps;

const TIME_ZONE = "Asia/Beirut";
// As formatMoney does: Western digits, "," for thousands and "." for decimals in both languages,
// so a figure reads the same on the Arabic and the English copy of the report.
const NUMBER_LOCALE = "en-GB";
const INTL_LOCALE: Record<Locale, string> = { ar: "ar-LB-u-nu-latn", en: "en-GB" };
const integers = new Intl.NumberFormat(NUMBER_LOCALE, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(NUMBER_LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Texts of this page (namespace "indicators"); a missing key throws, as on the other staff pages. */
function indicatorsText(i18n: i18n, locale: Locale): Translate {
  return (key, params = {}) => {
    const options = { lng: locale, ns: "indicators", ...params };
    if (!i18n.exists(key, options)) throw new MissingTranslationError(`No ${locale} indicators text for "${key}"`);
    return String(i18n.t(key, options));
  };
}

interface Page {
  ctx: StaffContext;
  /** This page's texts. */
  r: Translate;
  locale: Locale;
}

const monthFormats = new Map<Locale, Intl.DateTimeFormat>();
/** "March 2026", "آذار 2026": a Beirut calendar month. */
function monthName(period: MonthPeriod, locale: Locale): string {
  let format = monthFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(INTL_LOCALE[locale], { timeZone: TIME_ZONE, month: "long", year: "numeric" });
    monthFormats.set(locale, format);
  }
  // Mid-month, so no time zone can move it into the next or previous month.
  return format.format(new Date(Date.UTC(period.year, period.month - 1, 15, 12)));
}

const number = (n: number) => integers.format(n);
const decimal = (n: number | null) => (n === null ? null : oneDecimal.format(n));

/** A place, area or category name in the reader's language, the other one when that is empty. */
function nameOf(named: NamedRef, locale: Locale): string {
  return localName(named, locale).trim() || (locale === "ar" ? named.nameEn : named.nameAr);
}

function header(page: Page, data: ChildIndicators, departments: string): SafeHtml {
  const { r, locale, ctx } = page;
  const scope =
    data.scope.kind === "all" ? r("scope.all") : data.scope.departments.length === 0 ? r("scope.none") : r("scope.departments", { departments });
  return html`<div class="page-head indicators-head">
  <div>
    <h1>${r("title")}</h1>
    <p class="muted">${r("subtitle", { municipality: ctx.t("app.municipality"), date: formatDateTime(data.generatedAt, locale) })}</p>
    <p class="muted indicators-periods">${r("periods", {
      thisMonth: monthName(data.resolution.thisMonth.period, locale),
      lastMonth: monthName(data.resolution.lastMonth.period, locale),
      from: formatDate(data.rates.from, locale),
      to: formatDate(data.rates.to, locale),
    })}</p>
    <p class="indicators-scope notice notice-info">${scope}</p>
  </div>
  <nav class="indicators-actions" aria-label="${r("actions.label")}">
    <button type="button" class="btn btn-secondary btn-small" id="indicators-print" hidden>${r("actions.print")}</button>
    <a class="btn btn-ghost btn-small" href="/staff/indicators.csv" download>${r("actions.csv")}</a>
  </nav>
</div>`;
}

/**
 * Areas down, categories across (only those with an open child-related request), totals at the end:
 * one line per area however many categories, so the table stays short enough for one A4 page.
 */
function openSection(page: Page, data: ChildIndicators): SafeHtml {
  const { r, locale } = page;
  const { areas, total } = data.openChildRelated;
  const columns = new Map<string | null, { category: CategoryRef | null; open: number }>();
  for (const row of areas) {
    for (const c of row.byCategory) {
      const key = c.category?.code ?? null;
      const column = columns.get(key) ?? { category: c.category, open: 0 };
      column.open += c.open;
      columns.set(key, column);
    }
  }
  const ordered = [...columns.values()].sort((a, b) => (a.category === null ? 1 : b.category === null ? -1 : b.open - a.open || a.category.code.localeCompare(b.category.code)));
  const areaName = (area: NamedRef | null): HtmlValue => (area ? html`<bdi>${nameOf(area, locale)}</bdi>` : html`<span class="muted">${r("open.noArea")}</span>`);
  const count = (n: number): HtmlValue => (n === 0 ? html`<span class="muted">0</span>` : number(n));
  return html`<section class="card indicators-section" id="open-by-area" aria-labelledby="open-h">
  <h2 id="open-h">${r("open.heading")} <span class="muted indicators-count">${r("open.summary", { count: total })}</span></h2>
  ${
    areas.length === 0
      ? html`<p class="muted">${r("open.noAreas")}</p>`
      : html`<table class="indicators-table indicators-crosstab">
    <thead><tr><th scope="col">${r("open.area")}</th>${ordered.map(
      (c) => html`<th scope="col" class="num"${c.category ? html` data-category="${c.category.code}"` : null}>${c.category ? nameOf(c.category, locale) : r("open.noCategory")}</th>`,
    )}<th scope="col" class="num">${r("open.count")}</th></tr></thead>
    <tbody>${areas.map((row) => {
      const byKey = new Map(row.byCategory.map((c) => [c.category?.code ?? null, c.open]));
      return html`<tr><th scope="row">${areaName(row.area)}</th>${ordered.map((c) => html`<td class="num">${count(byKey.get(c.category?.code ?? null) ?? 0)}</td>`)}<td class="num"><strong>${number(row.open)}</strong></td></tr>`;
    })}</tbody>
  </table>`
  }
</section>`;
}

function placesSection(page: Page, data: ChildIndicators): SafeHtml {
  const { r, locale } = page;
  const quiet = data.places.filter((p) => p.open === 0).length;
  return html`<section class="card indicators-section" id="places" aria-labelledby="places-h">
  <h2 id="places-h">${r("places.heading")}</h2>
  ${
    data.places.length === 0
      ? html`<p class="muted">${r("places.empty")}</p>`
      : html`<table class="indicators-table">
    <thead><tr><th scope="col">${r("places.place")}</th><th scope="col">${r("places.kind")}</th><th scope="col" class="num">${r("places.open", { metres: number(data.zoneMetres) })}</th><th scope="col" class="num">${r("places.oldest")}</th></tr></thead>
    <tbody>${data.places.map(
      // On paper, places with no open request are left out (counted below): the council's one page.
      (p) => html`<tr data-place="${p.place.id}" class="${p.open === 0 ? "no-print" : ""}">
      <th scope="row"><bdi>${nameOf(p.place, locale)}</bdi></th>
      <td>${r(`places:kinds.${p.place.kind}`)}</td>
      <td class="num">${number(p.open)}</td>
      <td class="num">${p.oldestAgeDays === null ? html`<span class="muted">${r("places.noOpen")}</span>` : r("places.age", { count: p.oldestAgeDays })}</td>
    </tr>`,
    )}</tbody>
  </table>`
  }
  ${quiet > 0 && html`<p class="muted print-only">${r("places.quietNotPrinted", { count: quiet })}</p>`}
  ${!data.placesComplete && html`<p class="notice notice-warn">${r("places.partial", { limit: number(ZONE_TICKET_LIMIT) })}</p>`}
</section>`;
}

function resolutionSection(page: Page, data: ChildIndicators): SafeHtml {
  const { r, locale } = page;
  const { lastMonth, thisMonth } = data.resolution;
  const cell = (m: { n: number; medianDays: number | null }) =>
    html`<td class="num"><strong>${decimal(m.medianDays) ?? r("resolution.noData")}</strong> <span class="muted nowrap">(${r("resolution.count", { count: m.n })})</span></td>`;
  return html`<section class="card indicators-section" id="resolution" aria-labelledby="resolution-h">
  <h2 id="resolution-h">${r("resolution.heading")}</h2>
  <table class="indicators-table">
    <thead><tr><th scope="col">${r("resolution.requests")}</th><th scope="col" class="num">${r("resolution.lastMonth", { month: monthName(lastMonth.period, locale) })}</th><th scope="col" class="num">${r("resolution.thisMonth", { month: monthName(thisMonth.period, locale) })}</th></tr></thead>
    <tbody>
      <tr class="resolution-child"><th scope="row">${r("resolution.childRelated")}</th>${cell(lastMonth.childRelated)}${cell(thisMonth.childRelated)}</tr>
      <tr class="resolution-others"><th scope="row">${r("resolution.others")}</th>${cell(lastMonth.others)}${cell(thisMonth.others)}</tr>
    </tbody>
  </table>
</section>`;
}

function ratesSection(page: Page, data: ChildIndicators): SafeHtml {
  const { r, locale, ctx } = page;
  const { areas, from, to, withoutArea } = data.rates;
  const notEntered = html`<span class="muted">${r("rates.notEntered")}</span>${ctx.actor.role === "admin" ? html` <a class="no-print" href="/staff/admin/areas">${r("rates.enter")}</a>` : null}`;
  return html`<section class="card indicators-section" id="rates" aria-labelledby="rates-h">
  <h2 id="rates-h">${r("rates.heading")}</h2>
  <p class="muted">${r("rates.period", { from: formatDate(from, locale), to: formatDate(to, locale) })}</p>
  ${
    areas.length === 0
      ? html`<p class="muted">${r("rates.noAreas")}</p>`
      : html`<table class="indicators-table">
    <thead><tr><th scope="col">${r("rates.area")}</th><th scope="col" class="num">${r("rates.population")}</th><th scope="col" class="num">${r("rates.requests")}</th><th scope="col" class="num">${r("rates.perThousand")}</th></tr></thead>
    <tbody>${areas.map(
      (a) => html`<tr data-area="${a.area.id}">
      <th scope="row"><bdi>${nameOf(a.area, locale)}</bdi></th>
      <td class="num">${a.childPopulation === null ? "—" : number(a.childPopulation)}</td>
      <td class="num">${number(a.requests)}</td>
      <td class="num">${a.perThousand === null ? (a.childPopulation === 0 ? html`<span class="muted">${r("rates.noChildren")}</span>` : notEntered) : html`<strong>${decimal(a.perThousand)}</strong>`}</td>
    </tr>`,
    )}</tbody>
  </table>`
  }
  ${withoutArea > 0 && html`<p class="muted">${r("rates.withoutArea", { count: withoutArea })}</p>`}
</section>`;
}

function notes(page: Page, data: ChildIndicators): SafeHtml {
  const { r } = page;
  const metres = number(data.zoneMetres);
  return html`<section class="indicators-notes" aria-labelledby="notes-h">
  <h2 id="notes-h">${r("notes.heading")}</h2>
  <ol>
    <li>${r("notes.childRelated", { metres })}</li>
    <li>${r("notes.zone", { metres })}</li>
    <li>${r("notes.median")}</li>
    <li>${r("notes.rates")}</li>
    <li>${r("notes.scope")}</li>
    <li>${r("notes.privacy")}</li>
  </ol>
</section>`;
}

/** Signed in, whether or not the staff router authenticated before these routes were reached. */
function signedIn(deps: RouterDeps): RequestHandler {
  const signIn = authenticate(deps);
  return (req, res, next) => (maybeStaffContext(req) ? next() : signIn(req, res, next));
}

async function compute(deps: IndicatorsDeps, req: Request): Promise<{ ctx: StaffContext; data: ChildIndicators }> {
  const ctx = staffContext(req);
  const zoneMetres = deps.map?.childZoneMetres ?? DEFAULT_CHILD_ZONE_METRES;
  const data = await deps.db.$transaction((tx) => childIndicators(tx, ctx.actor, { now: deps.clock(), zoneMetres }));
  return { ctx, data };
}

/**
 * The child-safety indicators for any signed-in staff member, scoped like their queue (agents:
 * their departments' requests; admins: the whole town), and printable on one A4 page:
 * - `GET /indicators`: the page (a Print button, the figures, the footnotes saying how they are counted);
 * - `GET /indicators.csv`: the same figures as CSV (see childIndicatorsCsv), names in the reader's language.
 *
 * Paths are relative to the staff router (/staff). The routes authenticate when the staff router
 * has not already, so they may be added before or after its `authenticate(...)` line. The zone
 * radius is `deps.map.childZoneMetres` (CHILD_ZONE_METRES), 150 m when the wiring does not pass it.
 */
export function indicatorsRoutes(router: Router, deps: IndicatorsDeps): void {
  const allowed = signedIn(deps);

  router.get("/indicators", allowed, async (req: Request, res: Response) => {
    const { ctx, data } = await compute(deps, req);
    const page: Page = { ctx, r: indicatorsText(deps.i18n, ctx.locale), locale: ctx.locale };
    let departments = "";
    if (data.scope.kind === "departments" && data.scope.departments.length > 0) {
      const known = await deps.db.department.findMany({ where: { municipalityId: ctx.actor.municipalityId }, select: { code: true, nameAr: true, nameEn: true } });
      departments = data.scope.departments.map((code) => departmentLabel(known, code, ctx.locale) ?? code).join(ctx.locale === "ar" ? "، " : ", ");
    }
    const body = html`<article class="indicators-report">
${header(page, data, departments)}
${openSection(page, data)}
${placesSection(page, data)}
${resolutionSection(page, data)}
${ratesSection(page, data)}
${notes(page, data)}
</article>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: page.r("title"), section: "indicators", body, scripts: ["indicators.js"] }));
  });

  router.get("/indicators.csv", allowed, async (req: Request, res: Response) => {
    const { ctx, data } = await compute(deps, req);
    const r = indicatorsText(deps.i18n, ctx.locale);
    const csv = childIndicatorsCsv(data, { locale: ctx.locale, noArea: r("open.noArea"), noCategory: r("open.noCategory") });
    const { year, month, day: date } = beirutTime(data.generatedAt);
    const day = `${year}-${String(month).padStart(2, "0")}-${String(date).padStart(2, "0")}`;
    res.set("Content-Type", "text/csv; charset=utf-8").set("Content-Disposition", `attachment; filename="child-safety-indicators-${day}.csv"`).send(csv);
  });
}
