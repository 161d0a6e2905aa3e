import type { Request, RequestHandler, Response, Router } from "express";
import type { i18n } from "i18next";
import type { Locale, SurveyQuestion } from "../../../conversation/types.js";
import { MissingTranslationError } from "../../../i18n/render.js";
import { parseStoredQuestions, parseStoredText } from "../../../db/hot/surveys.js";
import { HttpError } from "../../../lib/httpError.js";
import { maskPhone } from "../../../lib/maskPhone.js";
import { canRunSurveys } from "../../../services/staff.js";
import {
  BREAKDOWNS,
  questionScale,
  surveyResults,
  surveyRunList,
  type GroupResult,
  type QuestionResult,
  type RunComparison,
  type RunResult,
} from "../../../services/surveys/results.js";
import { resultsCsv } from "../../../services/surveys/resultsCsv.js";
import type { RouterDeps } from "../../createApp.js";
import { authenticate } from "../auth.js";
import { channelLabel, selectField } from "../components.js";
import { formatDateTime, formatShortDateTime, isolating } from "../format.js";
import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { staffPage } from "../layout.js";
import { maybeStaffContext, staffContext, type StaffContext, type Translate } from "../staffContext.js";
import { barChart } from "./barChart.js";

/** Individual responses shown per page. */
export const RESPONSES_PAGE_SIZE = 100;

/** Texts of these pages (namespace "surveyResults"); a missing key throws, as on the other staff pages. */
function resultsText(i18n: i18n, locale: Locale): Translate {
  return (key, params = {}) => {
    const options = { lng: locale, ns: "surveyResults", ...params };
    if (!i18n.exists(key, options)) throw new MissingTranslationError(`No ${locale} survey results text for "${key}"`);
    return String(i18n.t(key, options));
  };
}

interface Page {
  ctx: StaffContext;
  /** Staff texts (channels, languages). */
  t: Translate;
  /** This page's texts. */
  r: Translate;
  locale: Locale;
}

const percent = (share: number | null) => (share === null ? "—" : `${Math.round(share * 100)}%`);
const decimal = (n: number | null) => (n === null ? "—" : String(Math.round(n * 100) / 100));
const signed = (n: number) => (n > 0 ? "+" : n < 0 ? "−" : "±");

function positiveId(value: unknown): number {
  const n = typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new HttpError(404, "No such survey");
  return n;
}

function optionalRun(req: Request): number | undefined {
  const run = req.query.run;
  if (run === undefined || run === "") return undefined;
  if (typeof run !== "string" || !/^\d{1,9}$/.test(run)) throw new HttpError(400, "Bad run");
  return Number(run);
}

function groupLabel(page: Page, kind: (typeof BREAKDOWNS)[number], key: string | null): HtmlValue {
  if (key === null) return html`<span class="muted">${page.r("breakdown.noArea")}</span>`;
  if (kind === "language") return key === "ar" || key === "en" ? page.t(`language.${key}`) : key;
  if (kind === "channel") return key === "sms" || key === "whatsapp" ? channelLabel(page.t, key) : key;
  return html`<bdi>${key}</bdi>`;
}

function runStatus(page: Page, status: string): string {
  return status === "open" || status === "closed" ? page.r(`run.status.${status}`) : page.r("run.other", { status });
}

function summary(page: Page, run: RunResult): SafeHtml {
  const { r, locale } = page;
  const row = (label: string, value: HtmlValue, cls = "") => html`<div class="dl-row ${cls}"><dt>${label}</dt><dd>${value}</dd></div>`;
  const rate =
    run.responseRate === null
      ? html`<span class="muted">${r("summary.noRate")}</span>`
      : html`<strong class="response-rate">${r("summary.rateValue", { completed: run.completed, invited: run.invited, percent: percent(run.responseRate) })}</strong>`;
  return html`<section class="card stack" aria-labelledby="summary-h">
  <h2 id="summary-h">${r("summary.heading")}</h2>
  <dl class="dl">
    ${row(r("summary.responseRate"), rate)}
    ${row(r("summary.invited"), run.invited)}
    ${row(r("summary.started"), run.started)}
    ${row(r("summary.completed"), run.completed)}
    ${row(r("summary.notReachable"), run.notReachable)}
    ${run.skipped > 0 && row(r("summary.skipped"), run.skipped)}
    ${run.pending > 0 && row(r("summary.pending"), run.pending)}
    ${run.expired > 0 && row(r("summary.expired"), run.expired)}
    ${row(r("summary.scheduledFor"), formatDateTime(run.scheduledFor, locale))}
    ${row(r("summary.closesAt"), formatDateTime(run.closesAt, locale))}
  </dl>
</section>`;
}

function questionCard(page: Page, run: RunResult, q: QuestionResult): SafeHtml {
  const { r, locale } = page;
  const number = q.index + 1;
  const text = q.text[locale];
  const definition = run.definition[q.index];
  const bars = q.counts.map((c) => ({
    label: c.label[locale],
    count: c.count,
    share: c.share,
    value: r("chart.value", { count: c.count, percent: percent(q.answered ? c.share : 0) }),
  }));
  const chart =
    bars.length > 0
      ? barChart({
          id: `chart-${run.id}-${q.index}`,
          title: r("chart.title", { number, question: text }),
          description: r("chart.description", {
            answered: q.answered,
            skipped: q.skipped,
            bars: q.counts.map((c) => r("chart.bar", { label: c.label[locale], count: c.count, percent: percent(q.answered ? c.share : 0) })).join("؛ "),
          }),
          bars,
          dir: locale === "ar" ? "rtl" : "ltr",
          lang: locale,
        })
      : null;
  const stats = q.stats;
  return html`<section class="card stack survey-question" id="q${number}" aria-labelledby="q${number}-h">
  <p class="crumbs muted">${r("question.heading", { number })} · ${r(`question.type.${q.type}`)}</p>
  <h3 id="q${number}-h"><bdi>${text}</bdi></h3>
  <p class="muted"><span>${r("question.answered")}: <strong class="answered">${q.answered}</strong></span> · <span>${r("question.skipped")}: <strong class="skipped">${q.skipped}</strong></span>${
    q.type === "rating" && q.mean !== null
      ? html` · <span>${r("question.mean")}: <strong class="mean">${r("question.meanValue", { mean: decimal(q.mean), min: definition?.min ?? 1, max: definition?.max ?? 5 })}</strong></span>`
      : null
  }</p>
  ${chart}
  ${stats &&
  html`<dl class="dl number-stats">
    ${(["count", "mean", "median", "min", "max"] as const).map((k) => html`<div class="dl-row"><dt>${r(`number.${k}`)}</dt><dd dir="ltr">${decimal(stats[k])}</dd></div>`)}
  </dl>`}
  ${q.type === "text" && freeAnswers(page, q)}
  ${q.answered === 0 && q.type !== "text" && html`<p class="muted">${r("question.noAnswers")}</p>`}
</section>`;
}

function freeAnswers(page: Page, q: QuestionResult): SafeHtml {
  const { r } = page;
  const answers = q.answers ?? [];
  if (answers.length === 0) return html`<p class="muted">${r("free.none")}</p>`;
  return html`<h4>${r("free.heading")}</h4>
<table class="admin-table free-answers">
  <thead><tr><th scope="col">${r("free.answer")}</th><th scope="col">${r("free.resident")}</th><th scope="col">${r("free.area")}</th></tr></thead>
  <tbody>${answers.map(
    (a) => html`<tr><td class="free-answer"><bdi>${a.value}</bdi></td><td class="phone"><span dir="ltr">${a.phoneMasked}</span></td><td>${a.area ? html`<bdi>${a.area}</bdi>` : html`<span class="muted">—</span>`}</td></tr>`,
  )}</tbody>
</table>`;
}

function groupCell(page: Page, question: SurveyQuestion | undefined, cell: GroupResult["questions"][number]): HtmlValue {
  if (!question || cell.answered === 0) return html`<span class="muted">—</span>`;
  if (question.type === "rating" || question.type === "number") {
    const counts = question.type === "rating" && cell.counts ? html`<br><small class="muted" dir="ltr">${cell.counts.join(" · ")}</small>` : null;
    return html`<span dir="ltr">${page.r("breakdown.meanCell", { mean: decimal(cell.mean) })}</span>${counts}`;
  }
  const scale = questionScale(question);
  return html`${(cell.counts ?? []).map((count, i) => html`<span class="nowrap">${scale[i]?.label[page.locale] ?? ""}: <strong>${count}</strong></span><br>`)}`;
}

function breakdownTables(page: Page, run: RunResult): SafeHtml {
  const { r } = page;
  const shown = run.definition.map((q, index) => ({ q, index })).filter(({ q }) => q.type !== "text");
  if (run.invited === 0) return html`<section class="card"><h2>${r("breakdown.heading")}</h2><p class="muted">${r("breakdown.empty")}</p></section>`;
  return html`<section class="card stack" aria-labelledby="breakdown-h">
  <h2 id="breakdown-h">${r("breakdown.heading")}</h2>
  ${BREAKDOWNS.map(
    (kind) => html`<h3>${r(`breakdown.${kind}`)}</h3>
  <div class="table-scroll"><table class="admin-table breakdown breakdown-${kind}">
    <thead><tr>
      <th scope="col">${r("breakdown.group")}</th><th scope="col">${r("breakdown.invited")}</th><th scope="col">${r("breakdown.completed")}</th><th scope="col">${r("breakdown.rate")}</th>
      ${shown.map(({ q, index }) => html`<th scope="col" title="${q.text[page.locale]}">${r("breakdown.questionColumn", { number: index + 1 })}</th>`)}
    </tr></thead>
    <tbody>${run.breakdown[kind].map(
      (g) => html`<tr>
      <th scope="row">${groupLabel(page, kind, g.key)}</th><td>${g.invited}</td><td>${g.completed}</td><td dir="ltr">${percent(g.responseRate)}</td>
      ${shown.map(({ q, index }) => html`<td>${groupCell(page, q, g.questions[index]!)}</td>`)}
    </tr>`,
    )}</tbody>
  </table></div>`,
  )}
</section>`;
}

function delta(page: Page, change: number | null, kind: "points" | "mean"): SafeHtml {
  if (change === null) return html`<span class="muted">—</span>`;
  const value = kind === "points" ? Math.round(Math.abs(change) * 100) : Math.round(Math.abs(change) * 100) / 100;
  const direction = value === 0 ? "same" : change > 0 ? "up" : "down";
  const arrow = direction === "up" ? "▲" : direction === "down" ? "▼" : "=";
  // The signed number isolated left to right, so "+3" stays "+3" inside Arabic text.
  const number = `\u2066${value === 0 ? "±" : signed(change)}${value}\u2069`;
  const text = page.r(kind === "points" ? "comparison.points" : "comparison.meanDelta", { delta: number });
  return html`<span class="delta delta-${direction}"><span aria-hidden="true">${arrow}</span> <span class="visually-hidden">${page.r(`comparison.${direction}`)}</span> <span>${text}</span></span>`;
}

function comparisonSection(page: Page, run: RunResult, comparison: RunComparison | null): SafeHtml {
  const { r, locale } = page;
  if (!comparison) return html`<section class="card"><h2>${r("comparison.heading", { number: run.number > 1 ? run.number - 1 : run.number })}</h2><p class="muted">${r("comparison.none")}</p></section>`;
  const rows: SafeHtml[] = [];
  const previousRate = run.responseRate !== null && comparison.responseRateChange !== null ? run.responseRate - comparison.responseRateChange : null;
  rows.push(html`<tr><th scope="row" colspan="2">${r("comparison.responseRate")}</th><td dir="ltr">${percent(previousRate)}</td><td dir="ltr">${percent(run.responseRate)}</td><td>${delta(page, comparison.responseRateChange, "points")}</td></tr>`);
  for (const q of comparison.questions) {
    const question = run.questions[q.index]!;
    const label = html`<span title="${question.text[locale]}">${r("breakdown.questionColumn", { number: q.index + 1 })}</span>`;
    if (q.type === "rating" || q.type === "number") {
      rows.push(html`<tr><th scope="row">${label}</th><td>${r("comparison.mean")}</td><td dir="ltr">${decimal(q.previousMean)}</td><td dir="ltr">${decimal(question.mean)}</td><td>${delta(page, q.meanChange, "mean")}</td></tr>`);
    } else {
      for (const s of q.shares) {
        rows.push(html`<tr><th scope="row">${label}</th><td>${r("comparison.share", { label: s.label[locale] })}</td><td dir="ltr">${percent(s.previous)}</td><td dir="ltr">${percent(s.current)}</td><td>${delta(page, s.change, "points")}</td></tr>`);
      }
    }
  }
  return html`<section class="card stack comparison" aria-labelledby="comparison-h">
  <h2 id="comparison-h">${r("comparison.heading", { number: comparison.previousNumber })}</h2>
  <table class="admin-table">
    <thead><tr><th scope="col">${r("comparison.question")}</th><th scope="col">${r("comparison.measure")}</th><th scope="col">${r("comparison.previous", { number: comparison.previousNumber })}</th><th scope="col">${r("comparison.current")}</th><th scope="col">${r("comparison.change")}</th></tr></thead>
    <tbody>${rows}</tbody>
  </table>
  ${comparison.questions.length === 0 && html`<p class="muted">${r("comparison.nothing")}</p>`}
</section>`;
}

function runSelector(page: Page, surveyId: number, runs: Array<{ id: number; number: number; scheduledFor: Date }>, selected: number): SafeHtml {
  const { r, locale } = page;
  const options = runs.map((run) => ({ value: String(run.id), label: r("run.option", { number: run.number, date: formatShortDateTime(run.scheduledFor, locale) }) }));
  return html`<form method="get" action="/staff/surveys/${surveyId}/results" class="inline-form run-selector">
  ${selectField(r("run.label"), "run", options, String(selected), { id: "run-select" })}
  <button type="submit" class="btn btn-secondary btn-small">${r("run.show")}</button>
</form>`;
}

function crumbs(page: Page, surveyId: number, title: string, extra?: { href: string; label: string }): SafeHtml {
  return html`<nav class="crumbs" aria-label="${page.r("crumbs.label")}"><a href="/staff/surveys">${page.r("crumbs.surveys")}</a> › <a href="/staff/surveys/${surveyId}">${title}</a>${extra ? html` › <a href="${extra.href}">${extra.label}</a>` : null}</nav>`;
}

/** Signed in (when mounted before the staff router's authentication too) and allowed to read surveys. */
function guard(deps: RouterDeps): RequestHandler[] {
  const signIn = authenticate(deps);
  return [
    (req, res, next) => (maybeStaffContext(req) ? next() : signIn(req, res, next)),
    (req, _res, next) => {
      if (!canRunSurveys(staffContext(req).actor)) throw new HttpError(403, "Surveys staff and admins only");
      next();
    },
  ];
}

function pageOf(deps: RouterDeps, req: Request): Page {
  const ctx = staffContext(req);
  return { ctx, t: ctx.t, r: resultsText(deps.i18n, ctx.locale), locale: ctx.locale };
}

/**
 * A survey's results for staff who run surveys (admins, and agents with the surveys permission;
 * others get 403):
 * - `GET /surveys/:id/results[?run=ID]`: one run (the newest by default): response rate, each
 *   question as a bar chart (server-side SVG), means, free answers with masked phones, the
 *   breakdowns by area, language and channel, and the change since the previous run.
 * - `GET /surveys/:id/results.csv[?run=ID]`: one row per response, no phone numbers.
 * - `GET /surveys/:id/runs/:runId/responses[?page=N]`: each response of a run, as given.
 *
 * Paths are relative to the staff router (/staff). The routes authenticate when the staff router
 * has not already, so they may be added before or after its `authenticate(...)` line:
 * `surveyResultsRoutes(router, deps)`.
 */
export function surveyResultsRoutes(router: Router, deps: RouterDeps): void {
  const allowed = guard(deps);

  router.get("/surveys/:id/results", ...allowed, async (req: Request, res: Response) => {
    const page = pageOf(deps, req);
    const { r, locale, ctx } = page;
    const surveyId = positiveId(req.params.id);
    const requested = optionalRun(req);
    const runs = await surveyRunList(deps.db, deps.municipalityId, surveyId);
    if (requested !== undefined && !runs.some((run) => run.id === requested)) throw new HttpError(404, "No such run");
    const runId = requested ?? runs[0]?.id;
    const results = await surveyResults(deps.db, deps.municipalityId, surveyId, { responses: true, ...(runId !== undefined ? { runId } : {}) });
    if (!results) throw new HttpError(404, "No such survey");
    const title = results.survey.title[locale];
    const run = results.runs[0];
    const csvHref = `/staff/surveys/${surveyId}/results.csv${run ? `?run=${run.id}` : ""}`;
    const body = html`<div class="page-head">
  ${crumbs(page, surveyId, title)}
  <h1>${isolating(r)("title", { title })}</h1>
  ${run && html`<p class="muted">${r("run.heading", { number: run.number })} · ${runStatus(page, run.status)}</p>`}
</div>
${
  run
    ? html`<div class="card actions results-actions">
  ${runs.length > 1 && runSelector(page, surveyId, runs, run.id)}
  <a class="btn btn-ghost btn-small" href="${csvHref}" download>${r("actions.csv")}</a>
  <a class="btn btn-ghost btn-small" href="/staff/surveys/${surveyId}/runs/${run.id}/responses">${r("actions.responses")}</a>
</div>
${summary(page, run)}
${run.questions.map((q) => questionCard(page, run, q))}
${breakdownTables(page, run)}
${comparisonSection(page, run, run.comparison)}`
    : html`<section class="card"><p>${r("noRuns")}</p></section>`
}`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { section: "surveys", title: r("title", { title }), body }));
  });

  router.get("/surveys/:id/results.csv", ...allowed, async (req: Request, res: Response) => {
    const surveyId = positiveId(req.params.id);
    const runId = optionalRun(req);
    const csv = await resultsCsv(deps.db, deps.municipalityId, surveyId, runId !== undefined ? { runId } : {});
    if (csv === null) throw new HttpError(404, "No such survey");
    const name = `survey-${surveyId}${runId !== undefined ? `-run-${runId}` : ""}-results.csv`;
    res.set("Content-Type", "text/csv; charset=utf-8").set("Content-Disposition", `attachment; filename="${name}"`).send(csv);
  });

  router.get("/surveys/:id/runs/:runId/responses", ...allowed, async (req: Request, res: Response) => {
    const page = pageOf(deps, req);
    const { r, t, locale, ctx } = page;
    const surveyId = positiveId(req.params.id);
    const runId = positiveId(req.params.runId);
    const run = await deps.db.surveyRun.findFirst({ where: { id: runId, surveyId, municipalityId: deps.municipalityId }, include: { survey: true } });
    if (!run) throw new HttpError(404, "No such run");
    const definition = parseStoredQuestions(run.questions);
    const title = parseStoredText(run.survey.title)?.[locale] ?? "";
    const where = { runId, answers: { some: {} } };
    const total = await deps.db.surveyInvitation.count({ where });
    const pages = Math.max(1, Math.ceil(total / RESPONSES_PAGE_SIZE));
    const rawPage = typeof req.query.page === "string" && /^\d{1,6}$/.test(req.query.page) ? Number(req.query.page) : 1;
    const current = Math.min(Math.max(1, rawPage), pages);
    const invitations = await deps.db.surveyInvitation.findMany({
      where,
      orderBy: { id: "asc" },
      skip: (current - 1) * RESPONSES_PAGE_SIZE,
      take: RESPONSES_PAGE_SIZE,
      select: { id: true, residentId: true, channel: true, locale: true, area: true, startedAt: true, completedAt: true, answers: { select: { questionIndex: true, value: true } } },
    });
    const residents = await deps.db.resident.findMany({ where: { id: { in: invitations.map((i) => i.residentId) } }, select: { id: true, phone: true } });
    const phones = new Map(residents.map((p) => [p.id, p.phone]));
    const answerText = (q: SurveyQuestion, value: string | null | undefined): HtmlValue => {
      if (value === undefined) return html`<span class="muted">${r("responses.notAnswered")}</span>`;
      if (value === null) return html`<span class="muted">${r("responses.skipped")}</span>`;
      const option = questionScale(q).find((s) => s.value === value);
      return option && q.type !== "rating" ? html`${option.label[locale]} <span class="muted" dir="ltr">(${value})</span>` : html`<span dir="auto">${value}</span>`;
    };
    const resultsHref = `/staff/surveys/${surveyId}/results?run=${runId}`;
    const pageHref = (n: number) => `/staff/surveys/${surveyId}/runs/${runId}/responses?page=${n}`;
    const body = html`<div class="page-head">
  ${crumbs(page, surveyId, title, { href: resultsHref, label: r("title", { title }) })}
  <h1>${r("responses.heading", { number: run.number })}</h1>
  <p class="muted">${r("responses.intro")}</p>
</div>
<div class="card actions"><a class="btn btn-ghost btn-small" href="${resultsHref}">${r("actions.backToResults")}</a></div>
<div class="card table-card table-scroll">
${
  invitations.length === 0
    ? html`<p class="muted">${r("responses.empty")}</p>`
    : html`<table class="admin-table responses">
  <thead><tr>
    <th scope="col">${r("responses.col.id")}</th><th scope="col">${r("responses.col.resident")}</th><th scope="col">${r("responses.col.channel")}</th><th scope="col">${r("responses.col.language")}</th><th scope="col">${r("responses.col.area")}</th><th scope="col">${r("responses.col.started")}</th><th scope="col">${r("responses.col.completed")}</th>
    ${definition.map((q, i) => html`<th scope="col" title="${q.text[locale]}">${r("breakdown.questionColumn", { number: i + 1 })}</th>`)}
  </tr></thead>
  <tbody>${invitations.map((i) => {
    const values = new Map(i.answers.map((a) => [a.questionIndex, a.value]));
    return html`<tr data-invitation="${i.id}">
    <td>${i.id}</td>
    <td class="phone"><span dir="ltr">${maskPhone(phones.get(i.residentId))}</span></td>
    <td>${i.channel === "sms" || i.channel === "whatsapp" ? channelLabel(t, i.channel) : i.channel}</td>
    <td>${i.locale === "ar" || i.locale === "en" ? t(`language.${i.locale}`) : i.locale}</td>
    <td>${i.area ? html`<bdi>${i.area}</bdi>` : html`<span class="muted">—</span>`}</td>
    <td class="nowrap">${i.startedAt ? formatShortDateTime(i.startedAt, locale) : "—"}</td>
    <td class="nowrap">${i.completedAt ? formatShortDateTime(i.completedAt, locale) : html`<span class="muted">${r("responses.unfinished")}</span>`}</td>
    ${definition.map((q, index) => html`<td>${answerText(q, values.get(index))}</td>`)}
  </tr>`;
  })}</tbody>
</table>`
}
</div>
${
  pages > 1 &&
  html`<nav class="pager">
  ${current > 1 ? html`<a class="btn btn-ghost btn-small" href="${pageHref(current - 1)}" rel="prev">${r("responses.previous")}</a>` : null}
  <span>${r("responses.pageOf", { page: current, pages })}</span>
  ${current < pages ? html`<a class="btn btn-ghost btn-small" href="${pageHref(current + 1)}" rel="next">${r("responses.next")}</a>` : null}
</nav>`
}`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { section: "surveys", title: r("responses.title", { number: run.number }), body }));
  });
}
