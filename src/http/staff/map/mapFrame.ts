import { createRequire } from "node:module";
import path from "node:path";
import type { Config } from "../../../config.js";
import { html, type SafeHtml } from "../html.js";
import type { StaffContext } from "../staffContext.js";

/**
 * What every map in the staff pages shares: Leaflet and its clustering plugin served from the
 * project's own dependencies (no CDN: /staff/assets/vendor/...), the background tiles from
 * MAP_TILE_URL, and mapBase.js, which draws a map in any element `mapFrame` rendered. With no tiles
 * (MAP_TILE_URL=off, an offline office, the tests) a map still shows its areas, places and
 * requests, on a plain background.
 */

const require = createRequire(import.meta.url);

/** The folders /staff/assets/vendor/<name>/ serves, each a package's dist/ folder. */
export const VENDOR_DIRS: Readonly<Record<string, string>> = {
  leaflet: path.join(path.dirname(require.resolve("leaflet/package.json")), "dist"),
  markercluster: path.join(path.dirname(require.resolve("leaflet.markercluster/package.json")), "dist"),
};

/** The scripts and stylesheets (under /staff/assets) of a page with a map, in load order. */
export const MAP_SCRIPTS = ["vendor/leaflet/leaflet.js", "vendor/markercluster/leaflet.markercluster.js", "mapBase.js"];
export const MAP_STYLES = ["vendor/leaflet/leaflet.css", "vendor/markercluster/MarkerCluster.css", "vendor/markercluster/MarkerCluster.Default.css", "map.css"];

export type MapSettings = Pick<Config["map"], "tileUrl" | "tileAttribution">;
export const NO_TILES: MapSettings = { tileUrl: null, tileAttribution: "" };

/**
 * The origin the Content-Security-Policy must let images come from for the tiles, or null:
 * "https://{s}.tile.example.org/{z}/{x}/{y}.png" gives "https://*.tile.example.org". The
 * configuration accepts only templates whose host is a plain name, "{s}." at most in front
 * (config.ts: isTileTemplate), so this never widens to more than that host's subdomains.
 */
export function tileOrigin(tileUrl: string | null): string | null {
  if (!tileUrl) return null;
  const match = /^https:\/\/((?:\{s\}\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)\//.exec(tileUrl);
  if (!match) return null;
  return `https://${match[1]!.replace(/^\{s\}\./, "*.").toLowerCase()}`;
}

export interface MapFrameOptions {
  id: string;
  /** Extra classes: "map-large" for the map page, "map-small" for a ticket's. */
  className?: string;
  /** Data attributes for the page's own script (data-* names without the prefix). */
  data?: Record<string, string | number | null | undefined>;
  /** What a screen reader hears for the map. */
  label: string;
}

/** The element mapBase.js turns into a map, with the tile settings and the offline note. */
export function mapFrame(ctx: StaffContext, settings: MapSettings, options: MapFrameOptions): SafeHtml {
  const { t } = ctx;
  const extra = Object.entries(options.data ?? {})
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => html` data-${k}="${String(v)}"`);
  return html`<div id="${options.id}" class="map ${options.className ?? ""}" role="region" aria-label="${options.label}"
  data-tiles="${settings.tileUrl ?? ""}" data-attribution="${settings.tileAttribution}"
  data-offline="${t("map:offline")}" data-dir="${ctx.locale === "ar" ? "rtl" : "ltr"}"${extra}></div>`;
}
