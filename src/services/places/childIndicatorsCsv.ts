import type { Locale } from "../../conversation/types.js";
import { beirutTime } from "../surveys/recurrence.js";
import { csvLine } from "../surveys/resultsCsv.js";
import type { ChildIndicators, NamedRef } from "./childIndicators.js";

/**
 * The child-safety indicators as one CSV file, in a tidy long format: one header row
 * (`section,period,area,category,place,metric,value`) and one figure per row. One shape for all
 * four tables means the file opens in Excel and LibreOffice with a single header, and filters and
 * pivot tables work on it as it is; a file of stacked tables with their own headers would not
 * filter or pivot, and a wide table would need a column per category and per month.
 *
 * `section` and `metric` are stable codes (report, open_child_requests, place_zone, resolution,
 * per_1000_children); names of areas, categories and places are in the reader's language. Periods
 * are Beirut dates: a month as 2026-03, the rate window as 2025-03-15/2026-03-15. Numbers are plain
 * (a dot for decimals); a figure without data is an empty cell. RFC 4180 with CRLF, UTF-8 with a
 * byte order mark, formula-looking cells neutralised (as the survey results' CSV).
 */

const BOM = "\uFEFF";

export const CSV_HEADER = ["section", "period", "area", "category", "place", "metric", "value"] as const;

export interface CsvLabels {
  locale: Locale;
  /** Shown for requests with no area. */
  noArea: string;
  /** Shown for requests with no category. */
  noCategory: string;
}

type Row = [section: string, period: string, area: string, category: string, place: string, metric: string, value: string | number | null];

const pad = (n: number) => String(n).padStart(2, "0");
const beirutDate = (at: Date) => {
  const t = beirutTime(at);
  return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
};

export function childIndicatorsCsv(indicators: ChildIndicators, labels: CsvLabels): string {
  const name = (named: NamedRef | null, none: string) => (named === null ? none : (labels.locale === "ar" ? named.nameAr : named.nameEn).trim() || named.nameAr || named.nameEn);
  const rows: Row[] = [];
  const report = (metric: string, value: string | number) => rows.push(["report", "", "", "", "", metric, value]);
  report("generated_at", indicators.generatedAt.toISOString());
  report("scope", indicators.scope.kind === "all" ? "all" : `departments:${indicators.scope.departments.join(";")}`);
  report("zone_metres", indicators.zoneMetres);
  report("places_complete", indicators.placesComplete ? "true" : "false");

  for (const row of indicators.openChildRelated.areas) {
    const area = name(row.area, labels.noArea);
    rows.push(["open_child_requests", "", area, "", "", "open_total", row.open]);
    for (const c of row.byCategory) rows.push(["open_child_requests", "", area, name(c.category, labels.noCategory), "", "open", c.open]);
  }

  for (const p of indicators.places) {
    const place = name(p.place, "");
    rows.push(["place_zone", "", "", "", place, "open", p.open]);
    rows.push(["place_zone", "", "", "", place, "oldest_open_days", p.oldestAgeDays]);
    rows.push(["place_zone", "", "", "", place, "oldest_open_created_at", p.oldestCreatedAt ? p.oldestCreatedAt.toISOString() : null]);
  }

  for (const month of [indicators.resolution.lastMonth, indicators.resolution.thisMonth]) {
    const period = `${month.period.year}-${pad(month.period.month)}`;
    rows.push(["resolution", period, "", "", "", "median_days_child_related", month.childRelated.medianDays]);
    rows.push(["resolution", period, "", "", "", "n_child_related", month.childRelated.n]);
    rows.push(["resolution", period, "", "", "", "median_days_others", month.others.medianDays]);
    rows.push(["resolution", period, "", "", "", "n_others", month.others.n]);
  }

  const window = `${beirutDate(indicators.rates.from)}/${beirutDate(indicators.rates.to)}`;
  for (const r of indicators.rates.areas) {
    const area = name(r.area, labels.noArea);
    rows.push(["per_1000_children", window, area, "", "", "child_population", r.childPopulation]);
    rows.push(["per_1000_children", window, area, "", "", "child_related_requests", r.requests]);
    rows.push(["per_1000_children", window, area, "", "", "per_1000_children", r.perThousand]);
  }
  if (indicators.rates.withoutArea > 0) rows.push(["per_1000_children", window, labels.noArea, "", "", "child_related_requests", indicators.rates.withoutArea]);

  return BOM + [csvLine(CSV_HEADER), ...rows.map((row) => csvLine(row))].join("\r\n") + "\r\n";
}
