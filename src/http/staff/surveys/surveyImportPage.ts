import type { Request, RequestHandler, Response, Router } from "express";
import { importConsent, type ConsentImportResult } from "../../../services/surveys/importConsent.js";
import type { RouterDeps } from "../../createApp.js";
import { readMultipartBody } from "../multipartUpload.js";
import { authenticate, requireCsrf } from "../auth.js";
import { importFailedCard } from "../components.js";
import { isolating } from "../format.js";
import { html, type HtmlValue } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type Translate } from "../staffContext.js";
import { requireSurveys, SURVEYS_BASE, surveysText } from "./surveyPages.js";

/** The largest consent file accepted (about 40,000 rows). */
export const MAX_CONSENT_UPLOAD_BYTES = 2 * 1024 * 1024;
const PATH = "/surveys/import";
const PAGE_URL = `/staff${PATH}`;

/**
 * The consent import page: staff upload the CSV of residents who agreed to surveys at the town's
 * registration drives (`phone, language, area, consent_source`). All or nothing: a bad row and
 * nothing is written; residents who said STOP or left surveys are skipped.
 *
 * Like the account import, the upload is multipart: these routes bring their own authentication,
 * permission and CSRF checks and must be added to the staff router BEFORE its
 * `authenticate(...), requireCsrf` line.
 */
export function surveyImportPage(router: Router, deps: RouterDeps, options: { maxUploadBytes?: number } = {}): void {
  const maxBytes = options.maxUploadBytes ?? MAX_CONSENT_UPLOAD_BYTES;
  const allowed = [authenticate(deps), requireSurveys];
  router.get(PATH, ...allowed, async (req, res) => {
    renderPage(req, res, null, 200, maxBytes);
  });
  router.post(PATH, ...allowed, readUpload(maxBytes), requireCsrf, async (req, res) => {
    const s = surveysText(staffContext(req).t);
    const file = res.locals.consentFile as Buffer | undefined;
    if (!file || file.length === 0) return renderPage(req, res, { kind: "message", text: s("import.missingFile") }, 400, maxBytes);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(file);
    } catch {
      return renderPage(req, res, { kind: "message", text: s("import.encoding") }, 422, maxBytes);
    }
    let result: ConsentImportResult;
    try {
      result = await importConsent(deps.db, deps.municipalityId, text, deps.clock());
    } catch (error) {
      // One transaction: nothing was written. The database's message is for whoever fixes it.
      deps.logger.error({ err: error }, "consent import failed");
      return renderPage(req, res, { kind: "failed", error }, 500, maxBytes);
    }
    renderPage(req, res, { kind: "result", result }, result.ok ? 200 : 422, maxBytes);
  });
}

type Outcome = { kind: "message"; text: string } | { kind: "failed"; error: unknown } | { kind: "result"; result: ConsentImportResult };

function renderPage(req: Request, res: Response, outcome: Outcome | null, status: number, maxBytes: number): void {
  const ctx = staffContext(req);
  const s = surveysText(ctx.t);
  const body = html`<div class="page-head"><p class="crumbs"><a href="${SURVEYS_BASE}">${s("list.title")}</a></p><h1>${s("import.title")}</h1><p class="muted">${s("import.intro")}</p></div>
${outcome && outcomeCard(ctx.t, outcome)}
<section class="card form-card"><h2>${s("import.submit")}</h2>
<form method="post" action="${PAGE_URL}" enctype="multipart/form-data" class="form-grid">
  ${csrfField(ctx)}
  <label class="field"><span>${s("import.file")}</span><input type="file" name="consent" accept=".csv,text/csv" required></label>
  <p class="hint field-wide">${s("import.limit", { mb: Math.round(maxBytes / 2 ** 20) })}</p>
  <div class="actions"><button type="submit" class="btn btn-primary">${s("import.submit")}</button></div>
</form></section>
<section class="card"><h2>${s("import.formatTitle")}</h2>
  <p class="hint">${s("import.format")}</p>
  <pre class="sms-text" dir="ltr">phone,language,area,consent_source
03 123 456,ar,Haouch el Omara,drive-2025-03
+961 71 234 567,en,,drive-2025-03</pre>
</section>`;
  res.status(status).type("html").send(staffPage(ctx, PAGE_URL, { section: "surveys", title: s("import.title"), body }));
}

function outcomeCard(t: Translate, outcome: Outcome): HtmlValue {
  const s = surveysText(t);
  if (outcome.kind === "message") return html`<p class="flash flash-error" role="alert">${outcome.text}</p>`;
  if (outcome.kind === "failed") return importFailedCard(t, outcome.error);
  const { result } = outcome;
  if (result.ok) {
    return html`<section class="card import-result" role="status"><h2>${s("import.doneTitle")}</h2>
<ul class="import-counts">
  <li>${s("import.joined", { count: result.joined })} <span class="muted">(${s("import.created", { count: result.created })})</span></li>
  <li>${s("import.updated", { count: result.updated })}</li>
  <li>${s("import.skipped", { count: result.skipped.length })}</li>
</ul>
${result.skipped.length > 0
  ? html`<table class="admin-table"><thead><tr><th>${s("import.line")}</th><th>${s("import.phone")}</th><th>${s("import.reason")}</th></tr></thead>
<tbody>${result.skipped.map((k) => html`<tr class="import-skipped"><td>${k.line}</td><td><span class="mono" dir="ltr">${k.phone}</span></td><td>${s(`import.skip.${k.reason}`)}</td></tr>`)}</tbody></table>`
  : null}
</section>`;
  }
  const more = result.errorCount - result.errors.length;
  // A refused phone number or language keeps its own order inside the sentence ("08 540 123", not "123 540 08").
  const reason = isolating(s);
  return html`<section class="card table-card import-errors" role="alert"><h2>${s("import.refusedTitle")}</h2>
<p>${s("import.refused", { count: result.errorCount })}</p>
<table class="admin-table"><thead><tr><th>${s("import.line")}</th><th>${s("import.reason")}</th></tr></thead>
<tbody>${result.errors.map((e) => html`<tr class="import-error"><td>${e.line > 0 ? e.line : s("import.wholeFile")}</td><td>${reason(`import.errors.${e.key}`, e.params ?? {})}</td></tr>`)}</tbody></table>
${more > 0 ? html`<p class="muted">${s("import.more", { count: more })}</p>` : null}
</section>`;
}

/** Reads the multipart body (at most `maxBytes`): text fields become `req.body`, the file `res.locals.consentFile`. */
const readUpload =
  (maxBytes: number): RequestHandler =>
  async (req, res, next) => {
    const body = await readMultipartBody(req, res, maxBytes);
    // Too big: nothing is read nor written, so the page (with the limit) is shown without the CSRF check.
    if (!body) {
      renderPage(req, res, { kind: "message", text: surveysText(staffContext(req).t)("import.tooLarge", { mb: Math.round(maxBytes / 2 ** 20) }) }, 413, maxBytes);
      return;
    }
    const consent = body.files.find((part) => part.name === "consent" && part.data.length > 0);
    if (consent) res.locals.consentFile = consent.data;
    req.body = body.fields;
    next();
  };
