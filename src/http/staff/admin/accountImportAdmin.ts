import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Request, RequestHandler, Response, Router } from "express";
import type { Locale } from "../../../conversation/types.js";
import { MissingTranslationError } from "../../../i18n/render.js";
import { HttpError } from "../../../lib/httpError.js";
import { IMPORT_LEASE, IMPORT_LEASE_TTL_MS, importAccounts, type ImportResult } from "../../../services/accountImport/importAccounts.js";
import type { ImportError } from "../../../services/accountImport/rows.js";
import { withLease } from "../../../services/jobLease.js";
import type { RouterDeps } from "../../createApp.js";
import { authenticate, requireAdmin, requireCsrf } from "../auth.js";
import { readMultipartBody } from "../multipartUpload.js";
import { bdi, importFailedCard, technicalDetails } from "../components.js";
import { formatDateTime, isolating } from "../format.js";
import { html, type HtmlValue } from "../html.js";
import { csrfField, staffPage } from "../layout.js";
import { staffContext, type Translate } from "../staffContext.js";

/** The whole upload (both files): a 100,000-row export is about 10-12 MB. Bigger ones go through the CLI or the drop folder. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const PATH = "/admin/accounts/import";
const PAGE_URL = `/staff${PATH}`;

/**
 * The admin page that imports the finance system's CSV export: GET shows the form and the recent
 * imports, POST (multipart/form-data: `accounts`, optional `statement`, `_csrf`) imports them and
 * shows the counts, or every bad row with its line.
 *
 * The routes bring their own authentication, admin check and CSRF check, because the staff router
 * checks CSRF on the url-encoded body before any admin route runs, and a file upload is
 * multipart: so they must be added to the staff router BEFORE its `authenticate(...), requireCsrf`
 * line. The body is only read for a signed-in admin, is refused beyond MAX_UPLOAD_BYTES (413), and
 * is parsed here without a dependency.
 */
export function accountImportAdmin(router: Router, deps: RouterDeps, options: { maxUploadBytes?: number } = {}): void {
  const maxBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  const signedInAdmin = [authenticate(deps), requireAdmin];
  router.get(PATH, ...signedInAdmin, async (req, res) => {
    await renderPage(req, res, deps, null, 200, maxBytes);
  });
  router.post(PATH, ...signedInAdmin, readUpload(maxBytes), requireCsrf, async (req, res) => {
    const { actor, locale } = staffContext(req);
    const t = importsText(deps, locale);
    const upload = res.locals.upload;
    if (!isUpload(upload) || !upload.files.accounts) return renderPage(req, res, deps, { kind: "message", text: t("admin.missingFile") }, 400, maxBytes);
    const dir = await mkdtemp(path.join(tmpdir(), "baladiya-import-"));
    try {
      const accounts = path.join(dir, "accounts.csv");
      await writeFile(accounts, upload.files.accounts.data);
      const statement = upload.files.statement ? path.join(dir, "statement.csv") : undefined;
      if (statement && upload.files.statement) await writeFile(statement, upload.files.statement.data);
      let leased;
      try {
        leased = await withLease(deps.db, IMPORT_LEASE, `upload:${actor.username}:${process.pid}`, IMPORT_LEASE_TTL_MS, deps.clock(), () =>
          importAccounts(deps.db, {
            municipalityId: deps.municipalityId,
            accounts,
            statement,
            source: `upload:${actor.username}`,
            now: deps.clock(),
            ...(deps.accountsPinKey ? { digestKey: deps.accountsPinKey } : {}),
          }),
        );
      } catch (error) {
        // All or nothing (one transaction), and the run is marked failed: the admin reads that in
        // words, the database's message behind "Details" for whoever fixes it.
        deps.logger.error({ err: error, source: `upload:${actor.username}` }, "account import failed");
        return renderPage(req, res, deps, { kind: "failed", error }, 500, maxBytes);
      }
      if (!leased.acquired) return renderPage(req, res, deps, { kind: "message", text: t("summary.busy") }, 409, maxBytes);
      const names = { accounts: upload.files.accounts.filename, statement: upload.files.statement?.filename ?? "" };
      await renderPage(req, res, deps, { kind: "result", result: leased.value, names }, leased.value.ok ? 200 : 422, maxBytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

type Outcome =
  | { kind: "message"; text: string }
  | { kind: "failed"; error: unknown }
  | { kind: "result"; result: ImportResult; names: Record<ImportError["file"], string> };

async function renderPage(req: Request, res: Response, deps: RouterDeps, outcome: Outcome | null, status: number, maxBytes: number): Promise<void> {
  const ctx = staffContext(req);
  const { locale } = ctx;
  const t = importsText(deps, locale);
  const runs = await deps.db.importRun.findMany({ where: { municipalityId: deps.municipalityId }, orderBy: { id: "desc" }, take: 10 });
  const body = html`<div class="page-head"><h1>${t("admin.title")}</h1><p class="muted">${t("admin.intro")}</p></div>
${outcome && outcomeCard(t, outcome, ctx.t)}
<section class="card form-card"><h2>${t("admin.submit")}</h2>
<form method="post" action="${PAGE_URL}" enctype="multipart/form-data" class="form-grid">
  ${csrfField(ctx)}
  <label class="field"><span>${t("admin.accountsFile")}</span><input type="file" name="accounts" accept=".csv,text/csv" required></label>
  <label class="field"><span>${t("admin.statementFile")}</span><input type="file" name="statement" accept=".csv,text/csv"></label>
  <p class="hint field-wide">${t("admin.limit", { mb: Math.round(maxBytes / 2 ** 20) })}</p>
  <div class="actions"><button type="submit" class="btn btn-primary">${t("admin.submit")}</button></div>
</form></section>
<section class="card"><h2>${t("admin.formatTitle")}</h2>
  <p class="hint">${t("admin.formatAccounts")}</p>
  <p class="hint">${t("admin.formatStatement")}</p>
</section>
<div class="card table-card"><h2>${t("admin.recentTitle")}</h2><table class="admin-table">
  <thead><tr><th>${t("admin.when")}</th><th>${t("admin.source")}</th><th>${t("admin.state")}</th><th>${t("admin.accounts")}</th><th>${t("admin.lines")}</th></tr></thead>
  <tbody>${
    runs.length === 0
      ? html`<tr class="empty"><td colspan="5">${t("admin.recentEmpty")}</td></tr>`
      : runs.map(
          (run) => html`<tr>
    <td>${formatDateTime(run.startedAt, locale)}</td>
    <td><span class="mono" dir="ltr">${run.source}</span></td>
    <td>${statusBadge(t, run.status)}${run.error && runError(ctx.t, run.error)}</td>
    <td>${run.accounts}</td>
    <td>${run.lines}</td>
  </tr>`,
        )
  }</tbody>
</table></div>`;
  res.status(status).type("html").send(staffPage(ctx, PAGE_URL, { title: t("admin.title"), body }));
}

/**
 * Why a recorded run failed, in words: rows were refused, or the import stopped on an error. The
 * stored text is English (logs, the command line): it goes behind "Details".
 */
function runError(t: Translate, error: string): HtmlValue {
  const refused = /^(accounts|statement) line \d+: /.test(error);
  return html`<div class="run-error"><small class="muted">${t(refused ? "errors:imports.runRefused" : "errors:imports.runFailed")}</small>${technicalDetails(t, error)}</div>`;
}

function outcomeCard(t: Translate, outcome: Outcome, staffT: Translate): HtmlValue {
  if (outcome.kind === "message") return html`<p class="flash flash-error" role="alert">${outcome.text}</p>`;
  if (outcome.kind === "failed") return importFailedCard(staffT, outcome.error);
  const { result, names } = outcome;
  if (result.ok) {
    const counts = { accounts: t("count.accounts", { count: result.accounts }), lines: t("count.lines", { count: result.lines }) };
    const changes = result.changed.accounts + result.changed.balances + result.changed.lines;
    const summary = result.unchanged ? t("summary.unchanged", counts) : t("summary.imported", { ...counts, changes: t("count.changes", { count: changes }) });
    return html`<section class="card import-result" role="status"><h2>${t("admin.importedTitle")}</h2><p>${summary}</p></section>`;
  }
  const more = result.errorCount - result.errors.length;
  // The refused value, the column and the account number keep their own direction in the sentence.
  const reason = isolating(t);
  // With the accounts file alone, its name is said once: the reasons get the room (a phone is narrow).
  const oneFile = names.statement === "";
  return html`<section class="card table-card import-errors" role="alert"><h2>${t("admin.refusedTitle")}</h2>
<p>${t("summary.refused", { errors: t("count.errors", { count: result.errorCount }) })}${oneFile && html` <small class="muted mono">${bdi(names.accounts)}</small>`}</p>
<table class="admin-table">
  <thead><tr>${!oneFile && html`<th>${t("admin.file")}</th>`}<th>${t("admin.line")}</th><th>${t("admin.reason")}</th></tr></thead>
  <tbody>${result.errors.map(
    (e) => html`<tr class="import-error">${!oneFile && html`<td>${bdi(names[e.file])}</td>`}<td>${e.line > 0 ? e.line : t("admin.wholeFile")}</td><td>${reason(`errors.${e.key}`, e.params)}</td></tr>`,
  )}</tbody>
</table>
${more > 0 && html`<p class="muted">${t("summary.more", { count: more })}</p>`}
</section>`;
}

function statusBadge(t: Translate, status: string): HtmlValue {
  const known = status === "running" || status === "done" || status === "failed";
  const style = status === "done" ? "status status-resolved" : status === "failed" ? "flag flag-stop" : "status status-in_progress";
  return html`<span class="badge ${style}">${known ? t(`admin.status.${status}`) : status}</span>`;
}

/** Texts of the `imports` namespace; a missing key throws, like the staff pages' translator. */
function importsText(deps: RouterDeps, locale: Locale): Translate {
  return (key, params = {}) => {
    const options = { lng: locale, ns: "imports", ...params };
    if (!deps.i18n.exists(key, options)) throw new MissingTranslationError(`No ${locale} imports text for "${key}"`);
    return String(deps.i18n.t(key, options));
  };
}

interface UploadedFile {
  filename: string;
  data: Buffer;
}
interface Upload {
  fields: Record<string, string>;
  files: Partial<Record<"accounts" | "statement", UploadedFile>>;
}

function isUpload(value: unknown): value is Upload {
  return typeof value === "object" && value !== null && "fields" in value && "files" in value;
}

/**
 * Reads a multipart/form-data body of at most `maxBytes` into memory, keeps its text fields as
 * `req.body` (so `requireCsrf` finds `_csrf`) and its files in `res.locals.upload`.
 */
const readUpload = (maxBytes: number): RequestHandler => async (req, res, next) => {
  const body = await readMultipartBody(req, res, maxBytes);
  if (!body) throw new HttpError(413, "Upload too large");
  const upload: Upload = { fields: body.fields, files: {} };
  for (const part of body.files) {
    // A file input left empty still sends a part, with no name and no bytes.
    if ((part.name === "accounts" || part.name === "statement") && (part.filename !== "" || part.data.length > 0)) {
      upload.files[part.name] = { filename: path.basename(part.filename ?? "") || `${part.name}.csv`, data: part.data };
    }
  }
  req.body = upload.fields;
  res.locals.upload = upload;
  next();
};

