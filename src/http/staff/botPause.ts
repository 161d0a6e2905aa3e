import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../lib/httpError.js";
import type { BotPause } from "../../services/residents.js";
import { resumeBot } from "../../db/hot/residents.js";
import { residentVisibleTo, type PausedResidentRow } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import { safeStaffPath } from "./auth.js";
import { redirectWithFlash } from "./flash.js";
import { excerpt, formatAge, formatDateTime } from "./format.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { csrfField } from "./layout.js";
import { staffContext, type StaffContext } from "./staffContext.js";

/** "Bot paused: flood" / "Bot paused: loop", with when as a tooltip. */
export function botPauseBadge(ctx: StaffContext, pause: BotPause | null | undefined): HtmlValue {
  if (!pause) return null;
  return html`<span class="badge flag flag-stop bot-paused bot-paused-${pause.reason}" title="${ctx.t("botPause.since", { when: formatDateTime(pause.since, ctx.locale) })}">${ctx.t(`botPause.badge.${pause.reason}`)}</span>`;
}

/** The "resume the bot" button for one resident; `back` is where to return afterwards. */
function resumeForm(ctx: StaffContext, residentId: number, back: string): SafeHtml {
  return html`<form method="post" action="/staff/residents/${residentId}/resume-bot" class="inline-form">
  ${csrfField(ctx)}<input type="hidden" name="back" value="${back}">
  <button type="submit" class="btn btn-secondary btn-small">${ctx.t("botPause.resume")}</button>
</form>`;
}

/**
 * The ticket page's banner when the bot stopped answering the ticket's resident: why, since when,
 * and the button that resumes it — only when the staff member may act on the resident
 * (`canResume`, as `residentVisibleTo` decides; the button would answer 404 otherwise), else a word
 * on who can. Nothing when the bot answers.
 */
export function botPauseBanner(
  ctx: StaffContext,
  resident: { id: number; botPausedAt: Date | null; botPauseReason: string | null },
  back: string,
  canResume: boolean,
): HtmlValue {
  if (!resident.botPausedAt) return null;
  const reason = resident.botPauseReason === "loop" ? "loop" : "rate";
  const pause: BotPause = { reason, since: resident.botPausedAt };
  return html`<section class="notice notice-warn bot-pause" role="status">
  <p>${botPauseBadge(ctx, pause)} <strong>${ctx.t("botPause.since", { when: formatDateTime(pause.since, ctx.locale) })}</strong></p>
  <p>${ctx.t(`botPause.explain.${reason}`)}</p>
  ${canResume ? resumeForm(ctx, resident.id, back) : html`<p class="muted">${ctx.t("botPause.resumeByOthers")}</p>`}
</section>`;
}

/** The queue's list of residents the bot stopped answering; nothing when there are none. */
export function pausedResidentsPanel(ctx: StaffContext, rows: readonly PausedResidentRow[], now: Date): HtmlValue {
  if (rows.length === 0) return null;
  const { t } = ctx;
  return html`<section class="card bot-paused-panel" aria-labelledby="bot-paused-title">
  <h2 id="bot-paused-title">${t("botPause.panel.title")}</h2>
  <p class="muted">${t("botPause.panel.hint")}</p>
  <ul class="stack">${rows.map(
    (row) => html`<li data-resident="${row.residentId}">
    <span class="phone" dir="ltr">${row.phoneMasked}</span> ${botPauseBadge(ctx, row.pause)} <span class="muted">${formatAge(t, row.pause.since, now)}</span>
    ${row.reference !== null ? html`<a href="/staff/tickets/${row.reference}">${t("botPause.panel.request", { reference: row.reference })}</a>` : html`<span class="muted">${t("botPause.panel.noRequest")}</span>`}
    ${row.lastMessage && html`<br><span class="muted">${t("botPause.panel.lastMessage", { when: formatDateTime(row.lastMessage.createdAt, ctx.locale) })}</span> <span class="desc" dir="auto">${excerpt(row.lastMessage.body)}</span>`}
    ${resumeForm(ctx, row.residentId, "/staff")}
  </li>`,
  )}</ul>
</section>`;
}

const ResumeForm = z.object({ back: z.string().max(2000).optional() });

/**
 * `POST /staff/residents/:residentId/resume-bot`: a staff member lets the bot answer a resident it
 * paused (recorded in the audit log), then returns to the page they came from. A resident the
 * staff member may not see is a 404, as one that does not exist.
 */
export function botPauseActions(deps: RouterDeps): Router {
  const router = Router();
  router.post("/residents/:residentId/resume-bot", async (req, res) => {
    const ctx = staffContext(req);
    const raw = req.params.residentId;
    if (typeof raw !== "string" || !/^\d{1,9}$/.test(raw)) throw new HttpError(404, "No such resident");
    const residentId = Number(raw);
    const back = safeStaffPath(ResumeForm.catch({}).parse(req.body ?? {}).back);
    // The pause is the inbox's (src/db/hot): the same query layer lifts it, in one transaction.
    const result = (await residentVisibleTo(deps.db, ctx.actor, residentId))
      ? await deps.hot.db.transaction().execute((tx) => resumeBot(tx, { municipalityId: ctx.actor.municipalityId, residentId, staffId: ctx.actor.id, now: deps.clock() }))
      : ({ ok: false, error: "not_found" } as const);
    if (!result.ok && result.error === "not_found") throw new HttpError(404, "No such resident");
    if (!result.ok) return redirectWithFlash(res, deps, back, [{ kind: "info", text: ctx.t("botPause.notPaused") }]);
    deps.logger.info({ residentId, staffId: ctx.actor.id, reason: result.reason }, "bot resumed by staff");
    return redirectWithFlash(res, deps, back, [{ kind: "success", text: ctx.t("botPause.resumed") }]);
  });
  return router;
}
