import { Router, type Request, type RequestHandler, type Response } from "express";
import { z } from "zod";
import { CHANNELS, LOCALES, SURVEY_QUESTION_TYPES, type Locale } from "../../../conversation/types.js";
import { HttpError } from "../../../lib/httpError.js";
import { canRunSurveys } from "../../../services/staff.js";
import { estimateSurvey, MAX_SURVEY_SEGMENTS, type SurveyEstimate, type SurveyMessage } from "../../../services/surveys/cost.js";
import { MAX_QUESTIONS, type SurveyRecord } from "../../../services/surveys/definition.js";
import { cancelSurvey, createSurvey, getSurvey, listSurveys, pauseSurvey, resumeSurvey, scheduleSurvey, updateSurvey, type SurveyRefusal } from "../../../services/surveys/surveys.js";
import type { RouterDeps } from "../../createApp.js";
import { parseId } from "../admin/adminForms.js";
import { redirectWithFlash, takeFlash, type FlashMessage } from "../flash.js";
import { formatDateTime, isolating } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { emptyForm, formFromBody, formFromRecord, inputFromForm, refusalKey, type FormProblem, type FormValues, type QuestionValues } from "./surveyForm.js";

/** Where the survey pages live. */
export const SURVEYS_BASE = "/staff/surveys";

/** Survey pages: admins and staff with the surveys permission; everyone else gets 403. */
export const requireSurveys: RequestHandler = (req, _res, next) => {
  if (!canRunSurveys(staffContext(req).actor)) throw new HttpError(403, "Surveys permission required");
  next();
};

/** Texts of the `surveys` namespace through the staff translator (a missing key throws). */
export const surveysText =
  (t: Translate): Translate =>
  (key, params) =>
    t(`surveys:${key}`, params);

const ConfirmForm = z.object({ confirmedSegments: z.string().regex(/^\d{1,12}$/), version: z.string().regex(/^\d{1,15}$/).optional(), confirm: z.string().optional() });

/**
 * The survey pages under /staff/surveys: the list, a draft's form (new and edit), a survey's page
 * (SMS preview in both languages, the cost of a run, scheduling with the estimate confirmed), and
 * pause / resume / cancel. Mounted after authentication and the CSRF check, behind requireSurveys.
 */
export function surveyPages(deps: RouterDeps): Router {
  const router = Router();
  const municipalityId = deps.municipalityId;

  /** The neighbourhoods residents have, for the audience checkboxes. */
  async function knownAreas(): Promise<string[]> {
    const rows = await deps.db.resident.findMany({ where: { municipalityId, area: { not: null } }, select: { area: true }, distinct: ["area"], orderBy: { area: "asc" }, take: 200 });
    return rows.map((r) => r.area!).filter((a) => a !== "");
  }

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const s = surveysText(ctx.t);
    const surveys = await listSurveys(deps.db, municipalityId);
    const body = html`<div class="page-head"><h1>${s("list.title")}</h1><p class="muted">${s("list.intro")}</p>
  <p class="actions"><a class="btn btn-primary" href="${SURVEYS_BASE}/new">${s("list.new")}</a> <a class="btn btn-secondary" href="${SURVEYS_BASE}/import">${s("list.import")}</a></p></div>
<div class="card table-card"><table class="admin-table survey-table">
  <thead><tr><th>${s("list.survey")}</th><th>${s("list.status")}</th><th>${s("list.schedule")}</th><th>${s("list.runs")}</th><th>${s("list.lastRun")}</th><th></th></tr></thead>
  <tbody>${
    surveys.length === 0
      ? html`<tr class="empty"><td colspan="6">${s("list.empty")}</td></tr>`
      : surveys.map(
          (survey) => html`<tr>
    <td><a href="${SURVEYS_BASE}/${survey.id}"><strong dir="auto">${survey.title[ctx.locale]}</strong></a></td>
    <td>${statusBadge(s, survey.status)}</td>
    <td>${scheduleText(s, survey, ctx.locale)}</td>
    <td>${survey.runs}</td>
    <td>${survey.lastRunAt ? formatDateTime(survey.lastRunAt, ctx.locale) : html`<span class="muted">${s("list.never")}</span>`}</td>
    <td class="row-links"><a class="btn btn-ghost btn-small" href="${SURVEYS_BASE}/${survey.id}">${s("list.open")}</a>${survey.status === "draft" ? html` <a class="btn btn-ghost btn-small" href="${SURVEYS_BASE}/${survey.id}/edit">${s("list.edit")}</a>` : null} <a class="btn btn-ghost btn-small" href="${SURVEYS_BASE}/${survey.id}/results">${s("list.results")}</a></td>
  </tr>`,
        )
  }</tbody>
</table></div>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { section: "surveys", title: s("list.title"), body, flash: takeFlash(req, res, deps) }));
  });

  async function renderForm(req: Request, res: Response, values: FormValues, problems: FormProblem[], survey: SurveyRecord | null, status = 200) {
    const ctx = staffContext(req);
    const s = surveysText(ctx.t);
    const areas = await knownAreas();
    const action = survey ? `${SURVEYS_BASE}/${survey.id}/edit` : `${SURVEYS_BASE}/new`;
    const title = survey ? s("form.editTitle") : s("form.newTitle");
    const body = html`<div class="page-head"><p class="crumbs"><a href="${SURVEYS_BASE}">${s("list.title")}</a></p><h1>${title}</h1><p class="muted">${s("form.intro")}</p></div>
${problemList(s, problems)}
${surveyForm(ctx, s, action, values, areas)}`;
    res.status(status).type("html").send(staffPage(ctx, req.originalUrl, { section: "surveys", title, body, flash: takeFlash(req, res, deps) }));
  }

  router.get("/new", async (req, res) => {
    await renderForm(req, res, emptyForm(), [], null);
  });

  /** Handles a submitted form: "add a question" re-renders it; otherwise validates and saves. */
  async function submitForm(req: Request, res: Response, survey: SurveyRecord | null) {
    const ctx = staffContext(req);
    const s = surveysText(ctx.t);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body.action === "add") return renderForm(req, res, formFromBody(body, true), [], survey);
    const values = formFromBody(body);
    const checked = inputFromForm(values);
    if (!checked.ok) return renderForm(req, res, values, checked.problems, survey, 422);
    const now = deps.clock();
    const saved = survey
      ? await updateSurvey(deps.db, municipalityId, survey.id, checked.input, now)
      : await createSurvey(deps.db, municipalityId, checked.input, ctx.actor.id, now);
    if (!saved.ok) {
      if (saved.refusal === "bad_recurrence") return renderForm(req, res, values, [{ key: "errors.cron" }], survey, 422);
      return redirectWithFlash(res, deps, SURVEYS_BASE, [{ kind: "error", text: s(refusalKey(saved.refusal)) }]);
    }
    redirectWithFlash(res, deps, `${SURVEYS_BASE}/${saved.survey.id}`, [{ kind: "success", text: s(survey ? "flash.saved" : "flash.created") }]);
  }

  router.post("/new", async (req, res) => {
    await submitForm(req, res, null);
  });

  async function surveyOf(raw: unknown): Promise<SurveyRecord> {
    const survey = await getSurvey(deps.db, municipalityId, parseId(raw));
    if (!survey) throw new HttpError(404, "No such survey");
    return survey;
  }

  router.get("/:id/edit", async (req, res) => {
    const survey = await surveyOf(req.params.id);
    if (survey.status !== "draft") {
      return redirectWithFlash(res, deps, `${SURVEYS_BASE}/${survey.id}`, [{ kind: "error", text: surveysText(staffContext(req).t)(refusalKey("not_draft")) }]);
    }
    await renderForm(req, res, formFromRecord(survey), [], survey);
  });

  router.post("/:id/edit", async (req, res) => {
    const survey = await surveyOf(req.params.id);
    if (survey.status !== "draft") {
      return redirectWithFlash(res, deps, `${SURVEYS_BASE}/${survey.id}`, [{ kind: "error", text: surveysText(staffContext(req).t)(refusalKey("not_draft")) }]);
    }
    await submitForm(req, res, survey);
  });

  /** A survey's page; `notice` is shown above the cost (a refused schedule). */
  async function renderSurvey(req: Request, res: Response, survey: SurveyRecord, notice: FlashMessage[] = [], status = 200) {
    const ctx = staffContext(req);
    const s = surveysText(ctx.t);
    const estimate = await estimateSurvey(deps.db, deps.i18n, municipalityId, survey);
    const title = survey.title[ctx.locale];
    const body = html`<div class="page-head"><p class="crumbs"><a href="${SURVEYS_BASE}">${s("list.title")}</a></p>
  <h1><bdi>${title}</bdi></h1>
  <div class="head-badges">${statusBadge(s, survey.status)} <span class="muted">${scheduleText(s, survey, ctx.locale)}</span></div>
  <p class="actions survey-actions">${survey.status === "draft" ? html`<a class="btn btn-secondary" href="${SURVEYS_BASE}/${survey.id}/edit">${s("list.edit")}</a>` : null}
    <a class="btn btn-secondary" href="${SURVEYS_BASE}/${survey.id}/results">${s("list.results")}</a>
    ${lifecycleButtons(ctx, s, survey)}</p>
</div>
${notice.map((m) => html`<p class="flash flash-${m.kind}" role="${m.kind === "error" ? "alert" : "status"}">${m.text}</p>`)}
${summaryCard(s, survey, ctx.locale)}
${costCard(s, estimate)}
${survey.status === "draft" ? scheduleCard(ctx, s, survey, estimate) : null}
${previewCard(s, estimate)}`;
    res.status(status).type("html").send(staffPage(ctx, req.originalUrl, { section: "surveys", title, body, flash: takeFlash(req, res, deps) }));
  }

  router.get("/:id", async (req, res) => {
    await renderSurvey(req, res, await surveyOf(req.params.id));
  });

  router.post("/:id/schedule", async (req, res) => {
    const ctx = staffContext(req);
    const s = surveysText(ctx.t);
    const survey = await surveyOf(req.params.id);
    const form = ConfirmForm.safeParse(req.body ?? {});
    if (!form.success || form.data.confirm !== "on") return renderSurvey(req, res, survey, [{ kind: "error", text: s("schedule.confirmRequired") }], 422);
    const confirmed = Number(form.data.confirmedSegments);
    const seen = form.data.version ? new Date(Number(form.data.version)) : undefined;
    const result = await scheduleSurvey(deps.db, deps.i18n, municipalityId, survey.id, confirmed, deps.clock(), seen);
    if (result.ok) {
      return redirectWithFlash(res, deps, `${SURVEYS_BASE}/${survey.id}`, [{ kind: "success", text: s("flash.scheduled", { segments: result.estimate.estimatedSegments }) }]);
    }
    const refusal: SurveyRefusal = result.refusal;
    if (refusal === "estimate_changed") {
      const estimate = await estimateSurvey(deps.db, deps.i18n, municipalityId, survey);
      return renderSurvey(req, res, survey, [{ kind: "error", text: s("schedule.estimateChanged", { confirmed, segments: estimate.estimatedSegments }) }], 409);
    }
    return renderSurvey(req, res, (await getSurvey(deps.db, municipalityId, survey.id)) ?? survey, [{ kind: "error", text: s(refusalKey(refusal)) }], 409);
  });

  const lifecycle = { pause: pauseSurvey, resume: resumeSurvey, cancel: cancelSurvey } as const;
  for (const [action, run] of Object.entries(lifecycle)) {
    router.post(`/:id/${action}`, async (req, res) => {
      const s = surveysText(staffContext(req).t);
      const survey = await surveyOf(req.params.id);
      const result = await run(deps.db, municipalityId, survey.id, deps.clock());
      const back = `${SURVEYS_BASE}/${survey.id}`;
      if (!result.ok) return redirectWithFlash(res, deps, back, [{ kind: "error", text: s(refusalKey(result.refusal)) }]);
      redirectWithFlash(res, deps, back, [{ kind: "success", text: s(`flash.${action}`) }]);
    });
  }

  return router;
}

function statusBadge(s: Translate, status: string): SafeHtml {
  return html`<span class="badge survey-status survey-status-${status}">${s(`status.${status}`)}</span>`;
}

/** "Once, as soon as scheduled" · "Monthly on day 5 at 10:00" · "Cron: 0 10 * * 1", with the start. */
export function scheduleText(t: Translate, survey: SurveyRecord, locale: Locale): string {
  // "0 10 * * 1" would read backwards inside an Arabic sentence without its isolate.
  const s = isolating(t);
  const r = survey.recurrence;
  const kind = r.kind === "monthly" ? s("schedule.monthly", { day: r.day, time: r.time }) : r.kind === "cron" ? s("schedule.cron", { expression: r.expression }) : s("schedule.once");
  const start = survey.startAt ? s("schedule.startsAt", { at: formatDateTime(survey.startAt, locale) }) : s("schedule.startsNow");
  const next = survey.nextRunAt && (survey.status === "scheduled" || survey.status === "paused") ? ` · ${s("schedule.nextRun", { at: formatDateTime(survey.nextRunAt, locale) })}` : "";
  return `${kind} · ${start}${next}`;
}

function lifecycleButtons(ctx: StaffContext, s: Translate, survey: SurveyRecord): HtmlValue {
  const button = (action: string, style: string) =>
    html`<form method="post" action="${SURVEYS_BASE}/${survey.id}/${action}" class="inline">${csrfField(ctx)}<button type="submit" class="btn ${style}">${s(`actions.${action}`)}</button></form>`;
  return [
    survey.status === "scheduled" ? button("pause", "btn-secondary") : null,
    survey.status === "paused" ? button("resume", "btn-primary") : null,
    survey.status === "draft" || survey.status === "scheduled" || survey.status === "paused" ? button("cancel", "btn-danger") : null,
  ];
}

function problemList(s: Translate, problems: FormProblem[]): HtmlValue {
  if (problems.length === 0) return null;
  const said = isolating(s);
  return html`<section class="card survey-errors" role="alert"><h2>${s("form.problems")}</h2><ul>${problems.map((p) => html`<li>${said(p.key, p.params)}</li>`)}</ul></section>`;
}

function summaryCard(s: Translate, survey: SurveyRecord, locale: Locale): SafeHtml {
  const a = survey.audience;
  const all = s("audience.all");
  return html`<section class="card survey-summary"><h2>${s("detail.definition")}</h2>
<dl class="survey-facts">
  <dt>${s("form.titleAr")}</dt><dd dir="rtl" lang="ar">${survey.title.ar}</dd>
  <dt>${s("form.titleEn")}</dt><dd dir="ltr" lang="en">${survey.title.en}</dd>
  <dt>${s("detail.questions")}</dt><dd>${survey.questions.length}</dd>
  <dt>${s("audience.channels")}</dt><dd>${a.channels.length ? a.channels.map((c) => s(`channels.${c}`)).join(locale === "ar" ? "، " : ", ") : all}</dd>
  <dt>${s("audience.languages")}</dt><dd>${a.languages.length ? a.languages.map((l) => s(`languages.${l}`)).join(locale === "ar" ? "، " : ", ") : all}</dd>
  <dt>${s("audience.areas")}</dt><dd>${a.areas.length ? a.areas.map((area, i) => html`${i > 0 ? (locale === "ar" ? "، " : ", ") : null}<bdi>${area}</bdi>`) : all}</dd>
  <dt>${s("form.expiryHours")}</dt><dd>${s("detail.hours", { count: survey.expiryHours })}</dd>
</dl></section>`;
}

function costCard(s: Translate, estimate: SurveyEstimate): SafeHtml {
  const r = estimate.recipients;
  return html`<section class="card survey-cost"><h2>${s("cost.title")}</h2>
<table class="admin-table"><thead><tr><th></th>${LOCALES.map((l) => html`<th>${s(`languages.${l}`)}</th>`)}<th>${s("cost.total")}</th></tr></thead>
<tbody>${CHANNELS.map(
    (c) => html`<tr><th scope="row">${s(`channels.${c}`)}</th>${LOCALES.map((l) => html`<td>${r.byLocale[l][c]}</td>`)}<td><strong>${r[c]}</strong></td></tr>`,
  )}
<tr><th scope="row">${s("cost.perResident")}</th>${LOCALES.map((l) => html`<td>${s("cost.segments", { count: estimate.perResident[l] })}</td>`)}<td></td></tr>
</tbody></table>
<p class="survey-estimate">${s("cost.recipients", { count: r.total })} · <strong>${s("cost.estimated", { count: estimate.estimatedSegments })}</strong></p>
<p class="hint">${s("cost.explain")}</p>
</section>`;
}

function scheduleCard(ctx: StaffContext, s: Translate, survey: SurveyRecord, estimate: SurveyEstimate): SafeHtml {
  if (estimate.tooLong.length > 0) {
    return html`<section class="card survey-schedule survey-too-long" role="alert"><h2>${s("schedule.title")}</h2>
<p>${s("schedule.tooLong", { max: MAX_SURVEY_SEGMENTS })}</p>
<ul>${estimate.tooLong.map((m) => html`<li>${s(`languages.${m.locale}`)}: ${messageLabel(s, m)} — ${s("cost.segments", { count: m.segments })}</li>`)}</ul>
${survey.status === "draft" ? html`<p><a class="btn btn-secondary" href="${SURVEYS_BASE}/${survey.id}/edit">${s("list.edit")}</a></p>` : null}
</section>`;
  }
  const n = estimate.estimatedSegments;
  return html`<section class="card survey-schedule"><h2>${s("schedule.title")}</h2>
<form method="post" action="${SURVEYS_BASE}/${survey.id}/schedule" class="stack">
  ${csrfField(ctx)}<input type="hidden" name="confirmedSegments" value="${n}"><input type="hidden" name="version" value="${survey.updatedAt.getTime()}">
  <label class="check"><input type="checkbox" name="confirm" value="on" required><span>${s("schedule.confirm", { count: n })}</span></label>
  <div class="actions"><button type="submit" class="btn btn-primary">${s("schedule.submit")}</button></div>
</form></section>`;
}

function messageLabel(s: Translate, m: SurveyMessage): string {
  const n = (m.question ?? 0) + 1;
  switch (m.kind) {
    case "invite":
      return s("preview.invite");
    case "question":
      return s("preview.question", { n });
    case "retry":
      return s("preview.retry", { n });
    case "thanks":
      return s("preview.thanks");
  }
}

function previewCard(s: Translate, estimate: SurveyEstimate): SafeHtml {
  return html`<section class="card survey-preview"><h2>${s("preview.title")}</h2><p class="hint">${s("preview.intro", { max: MAX_SURVEY_SEGMENTS })}</p>
<div class="preview-columns">${LOCALES.map(
    (locale) => html`<div class="preview-column" lang="${locale}"><h3>${s(`languages.${locale}`)}</h3>
${estimate.messages[locale].map((m) => {
  const tooLong = m.segments > MAX_SURVEY_SEGMENTS;
  return html`<figure class="sms-preview${tooLong ? " sms-too-long" : ""}">
  <figcaption>${messageLabel(s, m)} · <span class="sms-cost">${s("cost.segments", { count: m.segments })} · <span dir="ltr">${m.encoding}</span></span></figcaption>
  <pre class="sms-text" dir="auto">${m.text}</pre>
  ${tooLong ? html`<p class="sms-warning">${s("preview.tooLong", { segments: m.segments, max: MAX_SURVEY_SEGMENTS })}</p>` : null}
</figure>`;
})}</div>`,
  )}</div></section>`;
}

/** The draft form: works without JavaScript (empty question blocks are ignored; "add a question" re-renders). */
function surveyForm(ctx: StaffContext, s: Translate, action: string, v: FormValues, areas: string[]): SafeHtml {
  const knownAreas = [...new Set([...areas, ...v.areas])];
  const text = (label: string, name: string, value: string, lang: Locale, extra: { required?: boolean; maxlength?: number } = {}) =>
    html`<label class="field"><span>${label}</span><input type="text" name="${name}" value="${value}" lang="${lang}" dir="${lang === "ar" ? "rtl" : "ltr"}"${extra.required ? html` required` : null} maxlength="${extra.maxlength ?? 300}"></label>`;
  const check = (name: string, value: string, checked: boolean, label: string) =>
    html`<label class="check"><input type="checkbox" name="${name}" value="${value}" ${checked ? html`checked` : null}><span>${label}</span></label>`;
  const radio = (name: string, value: string, checked: boolean, label: string) =>
    html`<label class="check"><input type="radio" name="${name}" value="${value}" ${checked ? html`checked` : null}><span>${label}</span></label>`;
  return html`<form method="post" action="${action}" class="card form-card survey-form">
  ${csrfField(ctx)}<input type="hidden" name="blocks" value="${v.questions.length}">
  <button type="submit" name="action" value="save" class="survey-default-submit" tabindex="-1" aria-hidden="true">${s("form.save")}</button>
  <fieldset class="survey-section"><legend>${s("form.texts")}</legend>
    <div class="form-grid">
      ${text(s("form.titleAr"), "title_ar", v.titleAr, "ar", { required: true, maxlength: 120 })}
      ${text(s("form.titleEn"), "title_en", v.titleEn, "en", { required: true, maxlength: 120 })}
      ${text(s("form.introAr"), "intro_ar", v.introAr, "ar")}
      ${text(s("form.introEn"), "intro_en", v.introEn, "en")}
    </div>
    <p class="hint">${s("form.introHint")}</p>
  </fieldset>
  <fieldset class="survey-section"><legend>${s("form.questions", { max: MAX_QUESTIONS })}</legend>
    <p class="hint">${s("form.questionsHint")}</p>
    ${v.questions.map((q, i) => questionBlock(s, q, i, text, check))}
    ${v.questions.length < MAX_QUESTIONS ? html`<p><button type="submit" name="action" value="add" class="btn btn-secondary" formnovalidate>${s("form.addQuestion")}</button></p>` : null}
  </fieldset>
  <fieldset class="survey-section"><legend>${s("form.audience")}</legend>
    <p class="hint">${s("form.audienceHint")}</p>
    <div class="checks-row"><span>${s("audience.channels")}</span>${CHANNELS.map((c) => check("channels", c, v.channels.includes(c), s(`channels.${c}`)))}</div>
    <div class="checks-row"><span>${s("audience.languages")}</span>${LOCALES.map((l) => check("languages", l, v.languages.includes(l), s(`languages.${l}`)))}</div>
    ${knownAreas.length > 0 ? html`<div class="checks-row"><span>${s("audience.areas")}</span>${knownAreas.map((a) => html`<span dir="auto">${check("areas", a, v.areas.includes(a), a)}</span>`)}</div>` : null}
    <label class="field"><span>${s("form.areasText")}</span><input type="text" name="areas_text" value="${v.areasText}" dir="auto" maxlength="2000"><small class="hint">${s("form.areasTextHint")}</small></label>
  </fieldset>
  <fieldset class="survey-section"><legend>${s("form.schedule")}</legend>
    <div class="checks-row">${radio("start", "now", v.start === "now", s("form.startNow"))}${radio("start", "at", v.start === "at", s("form.startAt"))}</div>
    <label class="field"><span>${s("form.startAtLabel")}</span><input type="datetime-local" name="start_at" value="${v.startAt}" dir="ltr"><small class="hint">${s("form.beirutTime")}</small></label>
    <div class="checks-row">${radio("recurrence", "once", v.recurrence === "once", s("form.once"))}${radio("recurrence", "monthly", v.recurrence === "monthly", s("form.monthly"))}${radio("recurrence", "cron", v.recurrence === "cron", s("form.cron"))}</div>
    <div class="form-grid">
      <label class="field"><span>${s("form.day")}</span><input type="number" name="day" value="${v.day}" min="1" max="28" dir="ltr"></label>
      <label class="field"><span>${s("form.time")}</span><input type="time" name="time" value="${v.time}" dir="ltr"></label>
      <label class="field field-wide"><span>${s("form.cronExpression")}</span><input type="text" name="cron" value="${v.cron}" dir="ltr" maxlength="100" placeholder="0 10 1 * *"><small class="hint">${s("form.cronHint")}</small></label>
      <label class="field"><span>${s("form.expiryHours")}</span><input type="number" name="expiry_hours" value="${v.expiryHours}" min="1" max="720" dir="ltr"></label>
    </div>
  </fieldset>
  <div class="actions"><button type="submit" name="action" value="save" class="btn btn-primary">${s("form.save")}</button></div>
</form>`;
}

type TextInput = (label: string, name: string, value: string, lang: Locale, extra?: { required?: boolean; maxlength?: number }) => SafeHtml;
type CheckInput = (name: string, value: string, checked: boolean, label: string) => SafeHtml;

function questionBlock(s: Translate, q: QuestionValues, i: number, text: TextInput, check: CheckInput): SafeHtml {
  const p = `q${i}_`;
  return html`<fieldset class="survey-question"><legend>${s("form.question", { n: i + 1 })}</legend>
  <div class="form-grid">
    <label class="field"><span>${s("form.type")}</span><select name="${p}type">${SURVEY_QUESTION_TYPES.map((type) => html`<option value="${type}" ${q.type === type ? html`selected` : null}>${s(`types.${type}`)}</option>`)}</select></label>
    <label class="field"><span>${s("form.scale")}</span><select name="${p}scale"><option value="5" ${q.scale !== "10" ? html`selected` : null}>1-5</option><option value="10" ${q.scale === "10" ? html`selected` : null}>0-10</option></select><small class="hint">${s("form.scaleHint")}</small></label>
    ${text(s("form.textAr"), `${p}ar`, q.ar, "ar")}
    ${text(s("form.textEn"), `${p}en`, q.en, "en")}
    <label class="field"><span>${s("form.optionsAr")}</span><textarea name="${p}options_ar" rows="4" lang="ar" dir="rtl">${q.optionsAr}</textarea></label>
    <label class="field"><span>${s("form.optionsEn")}</span><textarea name="${p}options_en" rows="4" lang="en" dir="ltr">${q.optionsEn}</textarea></label>
  </div>
  <p class="hint">${s("form.optionsHint")}</p>
  ${check(`${p}area`, "on", q.area, s("form.areaQuestion"))}
</fieldset>`;
}
