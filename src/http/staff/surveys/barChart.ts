import { html, type SafeHtml } from "../html.js";

/**
 * A horizontal bar chart as inline SVG, drawn on the server: no script, no CDN, printable, and
 * readable by a screen reader (a <title>, a <desc>, and every number as text).
 *
 * Right to left (Arabic) the chart is mirrored: labels on the right, bars growing leftwards, each
 * text drawn with an explicit direction (the page's `dir` is inherited by SVG text, so leaving it
 * implicit would push left-to-right labels off the chart). Numbers are always drawn left to right (the value texts hold digits and symbols only, so they
 * are forced left to right: Chromium ignores isolates inside SVG text).
 */

export interface Bar {
  label: string;
  count: number;
  /** 0..1: the bar's length. */
  share: number;
  /** The text after the bar, e.g. "12 · 40%". */
  value: string;
}

export interface BarChartOptions {
  /** Unique on the page (the title and description are referenced by id). */
  id: string;
  title: string;
  description: string;
  bars: readonly Bar[];
  dir: "rtl" | "ltr";
  /** The label's language (lang attribute). */
  lang?: string;
}

export const CHART_WIDTH = 640;
// Isolates "8 · 28%" as left-to-right inside an Arabic page, whatever the page's styles say.
const LRI = "\u2066";
const PDI = "\u2069";
const LABEL_WIDTH = 210;
const VALUE_WIDTH = 96;
const GAP = 10;
const ROW = 30;
const BAR = 20;
const PAD = 8;
const MAX_LABEL_CHARS = 30;

const shorten = (label: string) => (label.length > MAX_LABEL_CHARS ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…` : label);
const fixed = (n: number) => Math.round(n * 10) / 10;

export function barChart(options: BarChartOptions): SafeHtml {
  const { id, bars, dir } = options;
  const rtl = dir === "rtl";
  const height = PAD * 2 + Math.max(1, bars.length) * ROW;
  const track = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH - GAP * 2 - PAD * 2;
  // The bars' starting edge: after the labels, on the reading side.
  const barStart = rtl ? CHART_WIDTH - PAD - LABEL_WIDTH - GAP : PAD + LABEL_WIDTH + GAP;
  const rows = bars.map((bar, i) => {
    const y = PAD + i * ROW;
    const length = fixed(Math.max(0, Math.min(1, bar.share)) * track);
    const barX = rtl ? fixed(barStart - length) : barStart;
    const labelX = rtl ? CHART_WIDTH - PAD : PAD;
    const textY = y + ROW / 2 + 5;
    // After the bar's end, in the reading direction.
    const valueX = rtl ? fixed(barX - 6) : fixed(barStart + length + 6);
    const trackX = rtl ? barStart - track : barStart;
    return html`<g class="bar-row">
  <title>${bar.label}: ${bar.value}</title>
  <text x="${labelX}" y="${textY}" text-anchor="start" direction="${dir}" font-size="14" fill="#1f2933"${options.lang ? html` lang="${options.lang}"` : null}>${shorten(bar.label)}</text>
  <rect x="${trackX}" y="${y + (ROW - BAR) / 2}" width="${track}" height="${BAR}" rx="3" fill="#eef2f5"></rect>
  <rect class="bar" x="${barX}" y="${y + (ROW - BAR) / 2}" width="${length}" height="${BAR}" rx="3" fill="#2f6f8f" data-count="${bar.count}"></rect>
  <text class="bar-value" x="${valueX}" y="${textY}" text-anchor="${rtl ? "end" : "start"}" direction="ltr" style="direction: ltr; unicode-bidi: isolate" font-size="13" fill="#3e4c59">${LRI}${bar.value}${PDI}</text>
</g>`;
  });
  return html`<svg class="bar-chart" id="${id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" style="max-width: 100%; height: auto" role="img" aria-labelledby="${id}-title ${id}-desc" direction="${dir}" font-family="system-ui, -apple-system, 'Segoe UI', 'Noto Sans Arabic', Tahoma, sans-serif">
<title id="${id}-title">${options.title}</title>
<desc id="${id}-desc">${options.description}</desc>
${rows}
</svg>`;
}
