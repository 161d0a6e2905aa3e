import { Router } from "express";
import { GATEWAY_SILENT_MS, ROUTES, type Route, type RouteStatus } from "../../../channels/routes.js";
import type { RouterDeps } from "../../createApp.js";
import { routeLabel } from "../components.js";
import { takeFlash } from "../flash.js";
import { formatAge, formatDateTime, isolating } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { staffPage } from "../layout.js";
import { providerErrorNotice, type ProviderFailure } from "../providerErrors.js";
import { staffContext, type StaffContext } from "../staffContext.js";

const BASE = "/staff/admin/channels";

/** The environment variables that turn each route on (config.ts reads them; .env.example explains them). */
export const ROUTE_SETTINGS: Readonly<Record<Route, readonly string[]>> = {
  twilio: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM"],
  android: ["ANDROID_SMS_URL", "ANDROID_SMS_USERNAME", "ANDROID_SMS_PASSWORD", "ANDROID_SMS_SIGNING_KEY"],
  smpp: ["SMPP_URL", "SMPP_SYSTEM_ID", "SMPP_PASSWORD", "SMPP_SOURCE_ADDR"],
  "whatsapp-web": ["WHATSAPP_WEB_ENABLED", "CHROMIUM_PATH", "WHATSAPP_WEB_DATA_DIR"],
};

/** Outbox rows the worker has yet to hand to the provider. */
const WAITING = ["pending", "sending"];
/** Message states that mean it will not arrive (refused, given up on, or reported undelivered). */
const FAILED = ["failed", "undelivered"];
const DAY_MS = 24 * 3600_000;

/** The badge of a route's state; "off" when this process is not configured for it. */
const STATE_BADGE: Record<RouteStatus["state"] | "off", string> = {
  ready: "badge status status-resolved",
  connecting: "badge status status-waiting_staff",
  disconnected: "badge flag flag-stop",
  unknown: "badge status status-closed",
  off: "badge status status-closed",
};

interface Heartbeat {
  deviceId: string;
  lastSeenAt: Date;
  lastEvent: string;
}

interface RouteCard {
  route: Route;
  /** Null when this process is not configured for the route. */
  status: RouteStatus | null;
  waiting: number;
  failed: number;
  /** Why its latest message failed (in the last 24 hours), and why a waiting one's last attempt did. */
  lastFailure: (ProviderFailure & { at: Date }) | null;
  lastRetry: ProviderFailure | null;
}

/**
 * `GET /staff/admin/channels`, read-only: each route (Twilio, the Android gateway, SMPP, WhatsApp Web) with its
 * live state or the settings that would turn it on, the messages waiting for it in the outbox and
 * those that failed in the last 24 hours, and, for the Android gateway, when each phone was last
 * heard from — a phone silent for longer than GATEWAY_SILENT_MS is a warning, so a stuck phone is
 * seen before residents complain. WhatsApp Web's card links to its own page (linking the phone).
 */
export function channelsAdmin(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const { t } = ctx;
    const now = deps.clock();
    const since = new Date(now.getTime() - DAY_MS);
    const [waiting, failed, heartbeats] = await Promise.all([
      deps.db.outbox.groupBy({ by: ["route"], where: { municipalityId, status: { in: WAITING } }, _count: { _all: true } }),
      deps.db.outbox.groupBy({
        by: ["route"],
        where: { municipalityId, message: { is: { status: { in: FAILED }, updatedAt: { gte: since } } } },
        _count: { _all: true },
      }),
      deps.db.gatewayHeartbeat.findMany({
        where: { municipalityId, route: "android" },
        orderBy: [{ lastSeenAt: "desc" }, { deviceId: "asc" }],
        select: { deviceId: true, lastSeenAt: true, lastEvent: true },
      }),
    ]);
    const countOf = (rows: ReadonlyArray<{ route: string; _count: { _all: number } }>, route: Route) => rows.find((r) => r.route === route)?._count._all ?? 0;
    const configured = deps.routes?.configured ?? [];
    const statuses = deps.routes?.statuses() ?? [];
    // Configured routes first, in the order SMS prefers them; then the others.
    const order = [...configured, ...ROUTES.filter((r) => !configured.includes(r))];
    const cards: RouteCard[] = await Promise.all(
      order.map(async (route) => {
        const [lastFailure, lastRetry] = await Promise.all([
          countOf(failed, route) === 0
            ? null
            : deps.db.outbox.findFirst({
                where: { municipalityId, route, message: { is: { status: { in: FAILED }, updatedAt: { gte: since } } } },
                orderBy: [{ message: { updatedAt: "desc" } }, { id: "desc" }],
                select: { message: { select: { errorCode: true, errorMessage: true, updatedAt: true } } },
              }),
          countOf(waiting, route) === 0
            ? null
            : deps.db.outbox.findFirst({
                where: { municipalityId, route, status: { in: WAITING }, lastError: { not: null } },
                orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
                select: { lastError: true },
              }),
        ]);
        return {
          route,
          status: configured.includes(route) ? (statuses.find((s) => s.route === route) ?? { route, state: "unknown" }) : null,
          waiting: countOf(waiting, route),
          failed: countOf(failed, route),
          lastFailure: lastFailure && { code: lastFailure.message.errorCode, detail: lastFailure.message.errorMessage, at: lastFailure.message.updatedAt },
          lastRetry: lastRetry?.lastError ? { detail: lastRetry.lastError } : null,
        };
      }),
    );
    const title = t("admin.channels.title");
    const body = html`<div class="page-head"><h1>${title}</h1><p class="muted">${t("admin.channels.intro")}</p></div>
${deps.routes ? null : html`<div class="notice notice-info" role="note">${t("admin.channels.noDirectory")}</div>`}
${cards.map((card) => routeCard(ctx, card, card.route === "android" ? heartbeats : [], now))}`;
    res.set("Cache-Control", "no-store").type("html").send(staffPage(ctx, BASE, { title, section: "channels", body, flash: takeFlash(req, res, deps) }));
  });

  return router;
}

function routeCard(ctx: StaffContext, card: RouteCard, heartbeats: readonly Heartbeat[], now: Date): SafeHtml {
  const { t } = ctx;
  const { route, status } = card;
  const id = `route-${route}`;
  const state = status ? status.state : "off";
  return html`<section class="card" id="${id}" aria-labelledby="${id}-title">
  <h2 id="${id}-title">${routeLabel(t, route)} <span class="${STATE_BADGE[state]}">${t(`admin.channels.state.${state}`)}</span></h2>
  <p class="muted">${t(`admin.channels.about.${route}`)}</p>
  ${status ? statusLine(ctx, status) : notConfigured(ctx, route)}
  <p>${t("admin.channels.waiting", { count: card.waiting })}</p>
  ${card.lastRetry && html`<div class="route-problem last-retry">${t("errors:routes.lastRetry")} ${providerErrorNotice(t, card.lastRetry)}</div>`}
  <p>${t("admin.channels.failed", { count: card.failed })}</p>
  ${card.lastFailure && html`<div class="route-problem last-failure">${t("errors:routes.lastFailure", { when: formatDateTime(card.lastFailure.at, ctx.locale) })} ${providerErrorNotice(t, card.lastFailure)}</div>`}
  ${route === "android" && gatewayPhones(ctx, heartbeats, status !== null, now)}
  ${route === "whatsapp-web" && html`<p><a class="btn btn-ghost btn-small" href="/staff/admin/whatsapp-web">${t("admin.channels.whatsappWebLink")}</a></p>`}
</section>`;
}

/**
 * A configured route's state: since when, what went wrong in words (the technical detail behind a
 * toggle), and a warning when it is down.
 */
function statusLine(ctx: StaffContext, status: RouteStatus): SafeHtml {
  const { t, locale } = ctx;
  return html`${status.since && html`<p>${t("admin.channels.since", { when: formatDateTime(status.since, locale) })}</p>`}
  ${status.detail && html`<div class="route-problem route-detail">${providerErrorNotice(t, { detail: status.detail })}</div>`}
  ${status.state === "unknown" && html`<p class="hint">${t("admin.channels.unknownHint")}</p>`}
  ${status.state === "disconnected" && html`<div class="notice notice-warn" role="alert">${t("admin.channels.disconnectedWarning")}</div>`}`;
}

function notConfigured(ctx: StaffContext, route: Route): SafeHtml {
  return html`<p>${ctx.t("admin.channels.howToConfigure")}</p>
  <ul class="env-list">${ROUTE_SETTINGS[route].map((name) => html`<li><code dir="ltr">${name}</code></li>`)}</ul>`;
}

/** The Android phones that have called our webhooks, and a warning for each one gone silent. */
function gatewayPhones(ctx: StaffContext, heartbeats: readonly Heartbeat[], configured: boolean, now: Date): HtmlValue {
  const { t, locale } = ctx;
  const silent = (h: Heartbeat) => now.getTime() - h.lastSeenAt.getTime() > GATEWAY_SILENT_MS;
  if (heartbeats.length === 0) return configured ? html`<div class="notice notice-warn" role="alert">${t("admin.channels.neverHeard")}</div>` : null;
  return html`${configured &&
  heartbeats
    .filter(silent)
    .map((h) => html`<div class="notice notice-warn" role="alert">${isolating(t)("admin.channels.silentWarning", { device: h.deviceId, age: formatAge(t, h.lastSeenAt, now) })}</div>`)}
  <h3>${t("admin.channels.phones")}</h3>
  <div class="table-card"><table class="admin-table">
    <thead><tr><th scope="col">${t("admin.channels.device")}</th><th scope="col">${t("admin.channels.lastHeard")}</th><th scope="col">${t("admin.channels.lastEvent")}</th><th scope="col">${t("admin.channels.deviceState")}</th></tr></thead>
    <tbody>${heartbeats.map(
      (h) => html`<tr class="${silent(h) ? "row-attention" : ""}">
      <td><span class="mono" dir="ltr">${h.deviceId}</span></td>
      <td><time datetime="${h.lastSeenAt.toISOString()}">${formatDateTime(h.lastSeenAt, locale)}</time></td>
      <td><span class="mono" dir="ltr">${h.lastEvent}</span></td>
      <td>${silent(h) ? html`<span class="badge flag flag-stop">${t("admin.channels.deviceSilent")}</span>` : html`<span class="badge status status-resolved">${t("admin.channels.deviceOk")}</span>`}</td>
    </tr>`,
    )}</tbody>
  </table></div>`;
}
