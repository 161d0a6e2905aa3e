import { Router } from "express";
import QRCode from "qrcode";
import { z } from "zod";
import { STATUS_STALE_MS, type WhatsAppWebState, type WhatsAppWebStatus } from "../../../channels/whatsappWeb/status.js";
import { assertNever } from "../../../lib/assertNever.js";
import type { RouterDeps } from "../../createApp.js";
import { bdi, technicalDetails } from "../components.js";
import { redirectWithFlash, takeFlash } from "../flash.js";
import { formatDateTime, isolating } from "../format.js";
import { html, trustedHtml, type HtmlValue, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { sendConfirmation } from "./adminForms.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";

const BASE = "/staff/admin/whatsapp-web";
/** The stylesheet of this page under /staff/assets (the QR code's size). */
const STYLES = ["whatsappWeb.css"];

/** Texts of this page (locales/{ar,en}/whatsappWeb.json), with every inserted value isolated. */
const w =
  (t: Translate): Translate =>
  (key, params) =>
    isolating(t)(`whatsappWeb:${key}`, params);

/** The badge of each state, in the stylesheet's colours. */
const STATE_BADGE: Record<WhatsAppWebState | "stale", string> = {
  starting: "badge status status-waiting_staff",
  waiting_for_qr: "badge status status-new",
  ready: "badge status status-resolved",
  disconnected: "badge flag flag-stop",
  logged_out: "badge flag flag-stop",
  stopped: "badge status status-closed",
  stale: "badge status status-closed",
};

/** States in which something changes by itself within seconds: the page reloads itself to show it. */
const CHANGING: ReadonlySet<WhatsAppWebState> = new Set(["starting", "waiting_for_qr", "disconnected"]);
/** States with a session (or a QR code) an admin may log out of. */
const LOGOUT_STATES: ReadonlySet<WhatsAppWebState> = new Set(["starting", "waiting_for_qr", "ready", "disconnected"]);
/** Seconds between reloads while the state changes (WhatsApp rotates its QR code about every 20 s). */
const REFRESH_SECONDS = 10;
/** A QR code older than this has probably been rotated already (a holder that stopped publishing). */
const QR_OLD_MS = 60_000;

/** The tags and attributes the qrcode library's SVG is made of (see `qrSvg`). */
const SVG_TAG = /<(?:svg|path)(?:\s+(?:xmlns|viewBox|shape-rendering|fill|stroke|d|width|height)="[\w\s#.,:/-]*")*\s*\/?>|<\/svg>/g;

const LogoutForm = z.object({ confirm: z.literal("yes").optional().catch(undefined) });

/** The status as the page reads it: null when no instance holds the session (never did, or stopped publishing). */
type Held = { status: WhatsAppWebStatus; stale: false } | { status: WhatsAppWebStatus | null; stale: true };

function held(status: WhatsAppWebStatus | null, now: Date): Held {
  if (status && now.getTime() - status.updatedAt.getTime() <= STATUS_STALE_MS) return { status, stale: false };
  return { status, stale: true };
}

/**
 * /staff/admin/whatsapp-web: the WhatsApp Web channel (the town's own WhatsApp number, linked by
 * scanning a QR code). Off: how to turn it on, and that it is an unofficial client. On: its state
 * from whichever instance holds the session, the QR code to scan (drawn here, reloaded while
 * WhatsApp rotates it), a two-step "Log out" (a confirmation page, then its POST) and "Link again"
 * after a logout. Both ask the holder through `WhatsAppWebControl`, in the admin's name.
 */
export function whatsappWebAdmin(deps: RouterDeps): Router {
  const router = Router();

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const s = w(ctx.t);
    const flash = takeFlash(req, res, deps);
    const send = (body: SafeHtml) =>
      res
        .set("Cache-Control", "no-store")
        .type("html")
        .send(staffPage(ctx, BASE, { title: s("title"), section: "channels", body, flash, pageStyles: STYLES }));
    if (!deps.whatsappWeb) return send(offPage(ctx));
    const now = deps.clock();
    const current = held(await deps.whatsappWeb.status(), now);
    // The layout has no place for <meta http-equiv="refresh">: the Refresh header does the same
    // (the HTML standard treats both alike), and needs no script under the CSP.
    if (!current.stale && CHANGING.has(current.status.state)) res.set("Refresh", String(REFRESH_SECONDS));
    send(html`${pageHead(ctx)}${await statusCard(ctx, current, now)}`);
  });

  // Logging out takes two steps: this page says what it does, its button posts `confirm=yes`.
  router.get("/logout", async (req, res) => {
    const ctx = staffContext(req);
    const s = w(ctx.t);
    if (!deps.whatsappWeb) return res.redirect(303, BASE);
    const current = held(await deps.whatsappWeb.status(), deps.clock());
    if (current.stale || !LOGOUT_STATES.has(current.status.state)) return redirectWithFlash(res, deps, BASE, [{ kind: "info", text: s("logout.nothing") }]);
    const number = current.status.state === "ready" ? current.status.linkedNumber : undefined;
    sendConfirmation(res, ctx, {
      path: `${BASE}/logout`,
      title: s("logout.title"),
      section: "channels",
      question: number ? s("logout.questionNumber", { number }) : s("logout.question"),
      explain: html`<strong>${s("logout.stop")}</strong> ${s("logout.explain")}`,
      action: `${BASE}/logout`,
      submit: s("logout.submit"),
      cancel: s("logout.cancel"),
      cancelHref: BASE,
    });
  });

  router.post("/logout", async (req, res) => {
    const ctx = staffContext(req);
    const s = w(ctx.t);
    if (!deps.whatsappWeb) return res.redirect(303, BASE);
    // Without the confirmation page's field (an old link, a script posting directly), ask first.
    if (LogoutForm.parse(req.body ?? {}).confirm !== "yes") return res.redirect(303, `${BASE}/logout`);
    const current = held(await deps.whatsappWeb.status(), deps.clock());
    if (current.stale || !LOGOUT_STATES.has(current.status.state)) return redirectWithFlash(res, deps, BASE, [{ kind: "info", text: s("logout.nothing") }]);
    await deps.whatsappWeb.requestLogout(ctx.actor.id);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: s("logout.requested") }]);
  });

  router.post("/relink", async (req, res) => {
    const ctx = staffContext(req);
    const s = w(ctx.t);
    if (!deps.whatsappWeb) return res.redirect(303, BASE);
    const current = held(await deps.whatsappWeb.status(), deps.clock());
    // Only a logged-out session waits for someone: the others already link or reconnect by themselves.
    if (current.stale || current.status.state !== "logged_out") return redirectWithFlash(res, deps, BASE, [{ kind: "info", text: s("relink.nothing") }]);
    await deps.whatsappWeb.requestRelink(ctx.actor.id);
    redirectWithFlash(res, deps, BASE, [{ kind: "success", text: s("relink.requested") }]);
  });

  return router;
}

function pageHead(ctx: StaffContext): SafeHtml {
  const s = w(ctx.t);
  return html`<div class="page-head"><p class="crumbs"><a href="/staff/admin/channels">${ctx.t("nav.channels")}</a></p><h1>${s("title")}</h1><p class="muted">${s("intro")}</p></div>
<div class="notice notice-warn" role="note">${s("unofficial")}</div>`;
}

/** The channel is off in this server: what would turn it on. */
function offPage(ctx: StaffContext): SafeHtml {
  const s = w(ctx.t);
  return html`${pageHead(ctx)}
<section class="card" id="whatsapp-web-off">
  <h2>${s("off.title")}</h2>
  <p>${s("off.howTo")}</p>
  <ul class="env-list">
    <li><code dir="ltr">WHATSAPP_WEB_ENABLED=true</code> — ${s("off.enabled")}</li>
    <li><code dir="ltr">CHROMIUM_PATH</code> — ${s("off.chromium")}</li>
    <li><code dir="ltr">WHATSAPP_WEB_DATA_DIR</code> — ${s("off.dataDir")}</li>
  </ul>
  <p class="hint">${s("off.restart")}</p>
</section>`;
}

async function statusCard(ctx: StaffContext, current: Held, now: Date): Promise<SafeHtml> {
  const { t, locale } = ctx;
  const s = w(t);
  const when = (date: Date) => html`<time datetime="${date.toISOString()}">${formatDateTime(date, locale)}</time>`;
  if (current.stale) {
    const { status } = current;
    return html`<section class="card wweb-status" id="whatsapp-web-status" data-state="stale">
  <h2>${s("state.label")} <span class="${STATE_BADGE.stale}">${s("state.stale")}</span></h2>
  <div class="notice notice-warn" role="alert">${s("stale.explain")}</div>
  ${status
    ? html`<p>${s("stale.lastHeard", { when: formatDateTime(status.updatedAt, locale) })}</p>
  <p class="muted">${s("stale.lastState", { state: s(`state.${status.state}`) })}${status.holder && html` · ${s("holder")} ${bdi(html`<span class="mono">${status.holder}</span>`, "ltr")}`}</p>`
    : html`<p>${s("stale.never")}</p>`}
</section>`;
  }
  const { status } = current;
  return html`<section class="card wweb-status" id="whatsapp-web-status" data-state="${status.state}">
  <h2>${s("state.label")} <span class="${STATE_BADGE[status.state]}">${s(`state.${status.state}`)}</span></h2>
  <p>${s("since", { when: formatDateTime(status.since, locale) })}</p>
  ${await stateBody(ctx, status, now)}
  ${technicalDetails(t, status.detail)}
  <p class="hint">${status.holder && html`${s("holder")} ${bdi(html`<span class="mono">${status.holder}</span>`, "ltr")} · `}${s("updated")} ${when(status.updatedAt)}${CHANGING.has(status.state) ? html` · ${s("autoRefresh")}` : null}</p>
  ${LOGOUT_STATES.has(status.state) && html`<p class="actions"><a class="btn btn-ghost btn-danger-text" href="${BASE}/logout">${s("logout.button")}</a></p>`}
</section>`;
}

/** What each state means for residents, and what to do. */
async function stateBody(ctx: StaffContext, status: WhatsAppWebStatus, now: Date): Promise<HtmlValue> {
  const s = w(ctx.t);
  switch (status.state) {
    case "starting":
      return html`<p>${s("explain.starting")}</p>`;
    case "waiting_for_qr":
      return status.qr ? qrBlock(ctx, status.qr, status.qrAt, now) : html`<p>${s("explain.waitingNoQr")}</p>`;
    case "ready":
      return html`<p>${status.linkedNumber ? html`${s("explain.readyNumber")} <strong>${bdi(status.linkedNumber, "ltr")}</strong>` : s("explain.ready")}</p>`;
    case "disconnected":
      return html`<div class="notice notice-warn" role="alert">${s("explain.disconnected")}</div>
  ${status.retryAt && html`<p>${s("explain.retryAt", { when: formatDateTime(status.retryAt, ctx.locale) })}</p>`}`;
    case "logged_out":
      return html`<div class="notice notice-warn" role="alert">${s("explain.loggedOut")}</div>
  <form method="post" action="${BASE}/relink" class="actions">
    ${csrfField(ctx)}<button type="submit" class="btn btn-primary">${s("relink.button")}</button>
  </form>`;
    case "stopped":
      return html`<p>${s("explain.stopped")}</p>`;
    default:
      return assertNever(status.state);
  }
}

/**
 * The QR code to scan, drawn here as SVG from the QR string: the string is encoded into the
 * code's modules, never written into the page, so whatever it contains cannot become markup.
 */
async function qrBlock(ctx: StaffContext, qr: string, qrAt: Date | undefined, now: Date): Promise<SafeHtml> {
  const s = w(ctx.t);
  const svg = await qrSvg(qr);
  const ageSeconds = qrAt ? Math.max(0, Math.floor((now.getTime() - qrAt.getTime()) / 1000)) : null;
  return html`<div class="wweb-link">
  ${svg ? html`<div class="wweb-qr" role="img" aria-label="${s("qr.alt")}">${svg}</div>` : html`<div class="notice notice-error" role="alert">${s("qr.failed")}</div>`}
  <div>
    <h3>${s("qr.title")}</h3>
    <ol class="wweb-steps">
      <li>${s("qr.step1")}</li>
      <li>${s("qr.step2")}</li>
      <li>${s("qr.step3")}</li>
    </ol>
    ${ageSeconds !== null && html`<p class="hint">${s("qr.age", { count: ageSeconds })}</p>`}
    ${ageSeconds !== null && ageSeconds * 1000 > QR_OLD_MS && html`<p class="notice notice-info">${s("qr.old")}</p>`}
    <p class="hint">${s("qr.rotates")}</p>
  </div>
</div>`;
}

/** The qrcode library's SVG of `text`; null when it cannot be drawn (too long for a QR code). */
async function qrSvg(text: string): Promise<SafeHtml | null> {
  let svg: string;
  try {
    svg = await QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  } catch {
    return null;
  }
  // Belt and braces: the library writes one <svg> of <path>s with a few plain attributes; anything
  // else (a future version's surprise) is not inserted into an admin page.
  if (svg.replace(SVG_TAG, "").trim() !== "") return null;
  return trustedHtml(svg);
}
