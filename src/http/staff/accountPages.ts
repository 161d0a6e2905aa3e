import { Router } from "express";
import { z } from "zod";
import { HttpError } from "../../lib/httpError.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { accountDetail, REJECTION_REASONS, searchAccounts, type AccountDetail, type AccountRow } from "../../services/accountStaff.js";
import type { Actor } from "../../services/staff.js";
import type { RouterDeps } from "../createApp.js";
import { checkboxField, selectField, textField, type Option } from "./components.js";
import { takeFlash } from "./flash.js";
import { formatDate, formatDateTime, formatMoney, isolating } from "./format.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { csrfField, staffPage } from "./layout.js";
import { staffContext, type StaffContext } from "./staffContext.js";

const ACCOUNT_TYPES = new Set(["property", "business", "other"]);
const LINE_KINDS = new Set(["charge", "payment", "adjustment"]);
const REPORT_STATUSES = new Set(["reported", "confirmed", "rejected"]);
const REJECTION_LABELS = new Set<string>(REJECTION_REASONS);
const AUDIT_KINDS = new Set(["account_linked", "account_unlinked", "balance_disclosed", "statement_disclosed", "payment_reported", "payment_confirmed", "payment_rejected", "reminder_sent"]);

const Search = z.object({
  // PostgreSQL text cannot hold NUL: refuse it here rather than fail in the query.
  q: z.string().trim().max(100).refine((q) => !q.includes("\u0000")).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});
const PAGE_SIZE = 50;

/** The account number from the URL (express has decoded it); anything odd is an account that does not exist. */
export function parseAccountNumber(raw: unknown): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 64 || /[\u0000-\u001f\u007f]/.test(raw)) throw new HttpError(404, "No such account");
  return raw;
}

/** Where an account's page is. */
export const accountHref = (number: string) => `/staff/accounts/${encodeURIComponent(number)}`;

/** Admins see residents' phones in full; finance agents see them masked (they never need to call). */
export const phoneFor = (actor: Actor, phone: string | undefined): string => (phone === undefined ? "—" : actor.role === "admin" ? phone : maskPhone(phone));

function accountType(ctx: StaffContext, type: string): string {
  return ACCOUNT_TYPES.has(type) ? ctx.t(`accounts.type.${type}`) : type;
}

function balanceList(ctx: StaffContext, balances: AccountRow["balances"]): HtmlValue {
  const { t, locale } = ctx;
  if (balances.length === 0) return html`<span class="muted">${t("accounts.noBalance")}</span>`;
  return balances.map(
    (b) => html`<div class="balance"><strong dir="auto">${formatMoney(b.amountDue, b.currency, locale)}</strong> <small class="muted">${isolating(t)("accounts.due", { date: formatDate(b.dueDate, locale) })}</small></div>`,
  );
}

function listPage(ctx: StaffContext, rows: AccountRow[], total: number, query: z.infer<typeof Search>): SafeHtml {
  const { t } = ctx;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const href = (page: number) => `/staff/accounts?${new URLSearchParams({ ...(query.q ? { q: query.q } : {}), page: String(page) }).toString()}`;
  return html`<div class="page-head">
  <h1>${t("accounts.title")}</h1>
  <p class="muted">${t("accounts.intro")}${ctx.actor.role === "admin" && html` <a href="/staff/admin/accounts/import">${t("accounts.importLink")}</a>`}</p>
</div>
<form method="get" action="/staff/accounts" class="filters card" role="search">
  <div class="filter-grid">
    <label class="field field-search"><span>${t("accounts.search")}</span>
      <input type="search" name="q" value="${query.q ?? ""}" placeholder="${t("accounts.searchPlaceholder")}" maxlength="100" dir="auto"></label>
  </div>
  <div class="actions">
    <button type="submit" class="btn btn-primary">${t("accounts.searchSubmit")}</button>
    <a class="btn btn-ghost" href="/staff/accounts">${t("filters.reset")}</a>
  </div>
</form>
<p class="muted">${t("accounts.summary", { count: total })}</p>
<div class="card table-card">
<table class="admin-table accounts">
  <thead><tr>
    <th scope="col">${t("accounts.col.number")}</th>
    <th scope="col">${t("accounts.col.holder")}</th>
    <th scope="col">${t("accounts.col.type")}</th>
    <th scope="col">${t("accounts.col.balances")}</th>
    <th scope="col">${t("accounts.col.links")}</th>
  </tr></thead>
  <tbody>${
    rows.length === 0
      ? html`<tr class="empty"><td colspan="5">${t("accounts.empty")}</td></tr>`
      : rows.map(
          (a) => html`<tr>
    <td class="ref"><a href="${accountHref(a.number)}" dir="ltr">${a.number}</a></td>
    <td><span dir="auto">${a.holderName}</span>${a.description && html`<br><small class="muted" dir="auto">${a.description}</small>`}</td>
    <td>${accountType(ctx, a.accountType)}</td>
    <td>${balanceList(ctx, a.balances)}</td>
    <td>${t("accounts.linkCount", { count: a._count.links })}</td>
  </tr>`,
        )
  }</tbody>
</table>
</div>
${
  pages > 1 &&
  html`<nav class="pager" aria-label="${t("queue.pages")}">
  ${query.page > 1 ? html`<a class="btn btn-ghost btn-small" href="${href(query.page - 1)}" rel="prev">${t("queue.previous")}</a>` : null}
  <span>${t("queue.pageOf", { page: query.page, pages })}</span>
  ${query.page < pages ? html`<a class="btn btn-ghost btn-small" href="${href(query.page + 1)}" rel="next">${t("queue.next")}</a>` : null}
</nav>`
}`;
}

const row = (label: string, value: HtmlValue) => html`<div class="dl-row"><dt>${label}</dt><dd>${value}</dd></div>`;

function holderCard(ctx: StaffContext, detail: AccountDetail): SafeHtml {
  const { t, locale } = ctx;
  const { account } = detail;
  return html`<section class="card" aria-labelledby="holder-title">
  <h2 id="holder-title">${t("accounts.holderTitle")}</h2>
  <dl class="dl">
    ${row(t("accounts.holder"), html`<span dir="auto">${account.holderName}</span>`)}
    ${row(t("accounts.col.type"), accountType(ctx, account.accountType))}
    ${row(t("accounts.description"), account.description ? html`<span dir="auto">${account.description}</span>` : html`<span class="muted">${t("accounts.noDescription")}</span>`)}
    ${row(t("accounts.updated"), formatDateTime(account.updatedAt, locale))}
  </dl>
</section>`;
}

function balancesCard(ctx: StaffContext, detail: AccountDetail): SafeHtml {
  const { t, locale } = ctx;
  const { balances } = detail.account;
  return html`<section class="card" aria-labelledby="balances-title">
  <h2 id="balances-title">${t("accounts.balances")}</h2>
  ${
    balances.length === 0
      ? html`<p class="muted">${t("accounts.noBalance")}</p>`
      : html`<table class="admin-table"><thead><tr><th>${t("accounts.currency")}</th><th>${t("accounts.amountDue")}</th><th>${t("accounts.dueDate")}</th></tr></thead><tbody>${balances.map(
          (b) => html`<tr><td>${b.currency}</td><td><strong dir="auto">${formatMoney(b.amountDue, b.currency, locale)}</strong></td><td>${formatDate(b.dueDate, locale)}</td></tr>`,
        )}</tbody></table>`
  }
</section>`;
}

function statementCard(ctx: StaffContext, detail: AccountDetail): SafeHtml {
  const { t, locale } = ctx;
  const { lines } = detail.account;
  return html`<section class="card" aria-labelledby="statement-title">
  <h2 id="statement-title">${t("accounts.statement")}</h2>
  ${
    lines.length === 0
      ? html`<p class="muted">${t("accounts.noLines")}</p>`
      : html`<table class="admin-table statement"><thead><tr><th>${t("accounts.lineDate")}</th><th>${t("accounts.lineKind")}</th><th>${t("accounts.lineDescription")}</th><th>${t("accounts.lineAmount")}</th><th>${t("accounts.lineReference")}</th></tr></thead><tbody>${lines.map(
          (l) => html`<tr class="line-${LINE_KINDS.has(l.kind) ? l.kind : "other"}">
      <td class="nowrap">${formatDate(l.date, locale)}</td>
      <td>${LINE_KINDS.has(l.kind) ? t(`accounts.lineKinds.${l.kind}`) : l.kind}</td>
      <td><span dir="auto">${l.description}</span></td>
      <td class="nowrap"><span dir="auto">${formatMoney(l.amount, l.currency, locale)}</span></td>
      <td><span class="mono" dir="ltr">${l.reference}</span></td>
    </tr>`,
        )}</tbody></table>`
  }
</section>`;
}

function paymentsCard(ctx: StaffContext, detail: AccountDetail): HtmlValue {
  const { t, locale } = ctx;
  const reports = detail.account.paymentReports;
  if (reports.length === 0) return null;
  return html`<section class="card" aria-labelledby="payments-title">
  <h2 id="payments-title">${t("accounts.payments")}</h2>
  <table class="admin-table"><thead><tr><th>${t("accounts.lineDate")}</th><th>${t("payment.amount")}</th><th>${t("payment.paidAt")}</th><th>${t("payment.status")}</th><th>${t("payment.ticket")}</th></tr></thead><tbody>${reports.map(
    (r) => html`<tr>
    <td class="nowrap">${formatDateTime(r.createdAt, locale)}</td>
    <td class="nowrap"><span dir="auto">${formatMoney(r.amount, r.currency, locale)}</span></td>
    <td><span dir="auto">${r.paidAt}</span>${r.paymentRef && html` <small class="mono" dir="ltr">${r.paymentRef}</small>`}</td>
    <td>${paymentStatusBadge(ctx, r.status)}</td>
    <td><a href="/staff/tickets/${r.ticket.reference}">#${r.ticket.reference}</a></td>
  </tr>`,
  )}</tbody></table>
</section>`;
}

/** A payment report's state as a badge. */
export function paymentStatusBadge(ctx: StaffContext, status: string): SafeHtml {
  const known = REPORT_STATUSES.has(status);
  const look = status === "confirmed" ? "status-resolved" : status === "rejected" ? "flag flag-stop" : "status-waiting_staff";
  return html`<span class="badge status ${look}">${known ? ctx.t(`payment.statuses.${status}`) : status}</span>`;
}

function linksCard(ctx: StaffContext, detail: AccountDetail): SafeHtml {
  const { t, locale, actor } = ctx;
  const { account } = detail;
  const admin = actor.role === "admin";
  const languages: Option[] = [
    { value: "", label: t("accounts.linkForm.languageKeep") },
    { value: "ar", label: t("language.ar") },
    { value: "en", label: t("language.en") },
  ];
  return html`<section class="card" aria-labelledby="links-title">
  <h2 id="links-title">${t("accounts.links")}</h2>
  ${
    account.links.length === 0
      ? html`<p class="muted">${t("accounts.noLinks")}</p>`
      : html`<ul class="plain-list links">${account.links.map(
          (l) => html`<li>
      <span dir="ltr" class="${admin ? "phone-full" : "phone"}">${phoneFor(actor, l.resident.phone)}</span>
      ${l.resident.optedOut && html`<span class="badge flag flag-stop">${t("ticket.optedOutYes")}</span>`}
      <small class="muted">${
        l.linkedBy === "staff"
          ? isolating(t)("accounts.linkedByStaff", { name: (l.staffId !== null ? detail.staffNames.get(l.staffId) : undefined) ?? t("history.formerStaff"), when: formatDateTime(l.createdAt, locale) })
          : isolating(t)("accounts.linkedByCode", { when: formatDateTime(l.createdAt, locale) })
      }</small>
      ${
        admin &&
        html`<form method="post" action="${accountHref(account.number)}/links/${l.id}/unlink" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-ghost btn-small btn-danger-text">${t("accounts.unlink")}</button></form>`
      }
    </li>`,
        )}</ul>`
  }
  ${
    admin &&
    html`<h3>${t("accounts.linkForm.title")}</h3>
  <p class="hint">${t("accounts.linkForm.intro")}</p>
  <form method="post" action="${accountHref(account.number)}/links" class="stack">
    ${csrfField(ctx)}
    ${textField(t("accounts.linkForm.phone"), "phone", "", { type: "tel", required: true, dir: "ltr", maxlength: 30, autocomplete: "off", hint: t("accounts.linkForm.phoneHint") })}
    ${selectField(t("accounts.linkForm.language"), "locale", languages, "")}
    ${checkboxField(t("accounts.linkForm.idChecked"), "idChecked", false)}
    <div class="form-foot"><span></span><button type="submit" class="btn btn-primary">${t("accounts.linkForm.submit")}</button></div>
  </form>`
  }
</section>`;
}

/** A verification attempt's outcome as a badge. */
export function attemptBadge(ctx: StaffContext, success: boolean): SafeHtml {
  return success
    ? html`<span class="badge status status-resolved">${ctx.t("accounts.attemptSuccess")}</span>`
    : html`<span class="badge flag flag-stop">${ctx.t("accounts.attemptFailure")}</span>`;
}

function attemptsCard(ctx: StaffContext, detail: AccountDetail): SafeHtml {
  const { t, locale, actor } = ctx;
  const { attempts } = detail;
  return html`<section class="card" aria-labelledby="attempts-title">
  <h2 id="attempts-title">${t("accounts.attempts")}</h2>
  <p class="hint">${t("accounts.attemptsIntro")}</p>
  ${detail.locked && html`<div class="notice notice-warn" role="note">${t("accounts.locked", { count: detail.recentFailures })}</div>`}
  ${
    attempts.length === 0
      ? html`<p class="muted">${t("accounts.noAttempts")}</p>`
      : html`<table class="admin-table attempts"><thead><tr><th>${t("accounts.attemptWhen")}</th><th>${t("accounts.attemptPhone")}</th><th>${t("accounts.attemptResult")}</th></tr></thead><tbody>${attempts.map(
          (a) => html`<tr><td class="nowrap">${formatDateTime(a.createdAt, locale)}</td><td><span dir="ltr">${phoneFor(actor, detail.phones.get(a.residentId))}</span></td><td>${attemptBadge(ctx, a.success)}</td></tr>`,
        )}</tbody></table>`
  }
</section>`;
}

const AuditData = z.record(z.string(), z.unknown());
function auditData(json: string): Record<string, unknown> {
  try {
    return AuditData.catch({}).parse(JSON.parse(json));
  } catch {
    return {};
  }
}

function auditWhat(ctx: StaffContext, detail: AccountDetail, event: AccountDetail["auditEvents"][number]): string {
  const { t, locale, actor } = ctx;
  const data = auditData(event.data);
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const phone = phoneFor(actor, event.residentId !== null ? detail.phones.get(event.residentId) : undefined);
  const amount = typeof data.amount === "string" && /^-?\d+(\.\d+)?$/.test(data.amount) ? formatMoney(data.amount, str(data.currency), locale) : "";
  const reference = typeof data.ticketReference === "number" ? data.ticketReference : "";
  // A phone number, an amount or a code keeps its own order inside the sentence.
  const said = isolating(t);
  if (!AUDIT_KINDS.has(event.kind)) return said("accounts.auditKinds.other", { kind: event.kind, phone });
  const reason = str(data.reason);
  return said(`accounts.auditKinds.${event.kind}`, {
    phone,
    amount,
    reference,
    reason: reason && REJECTION_LABELS.has(reason) ? t(`payment.reasons.${reason}`) : reason,
    how: str(data.linkedBy) === "staff" ? t("accounts.how.staff") : t("accounts.how.code"),
  });
}

function auditCard(ctx: StaffContext, detail: AccountDetail): SafeHtml {
  const { t, locale } = ctx;
  const events = detail.auditEvents;
  const who = (e: AccountDetail["auditEvents"][number]) =>
    e.actorType === "staff"
      ? ((e.actorId !== null ? detail.staffNames.get(e.actorId) : undefined) ?? t("history.formerStaff"))
      : e.actorType === "resident"
        ? t("history.resident")
        : t("history.system");
  return html`<section class="card" aria-labelledby="audit-title">
  <h2 id="audit-title">${t("accounts.audit")}</h2>
  ${
    events.length === 0
      ? html`<p class="muted">${t("accounts.noAudit")}</p>`
      : html`<table class="admin-table audit"><thead><tr><th>${t("accounts.auditWhen")}</th><th>${t("accounts.auditWho")}</th><th>${t("accounts.auditWhat")}</th></tr></thead><tbody>${events.map(
          (e) => html`<tr class="audit-${e.kind}"><td class="nowrap">${formatDateTime(e.createdAt, locale)}</td><td><bdi>${who(e)}</bdi></td><td>${auditWhat(ctx, detail, e)}</td></tr>`,
        )}</tbody></table>`
  }
</section>`;
}

/**
 * `GET /staff/accounts` (search by number, holder or linked phone) and `GET /staff/accounts/:number`
 * (holder, balances, statement, reported payments, linked phones with the link and unlink forms for
 * admins, verification attempts, audit trail). Mounted behind requireAccountsAccess.
 */
export function accountPages(deps: RouterDeps): Router {
  const router = Router();

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const parsed = Search.safeParse({ q: typeof req.query.q === "string" && req.query.q.trim() !== "" ? req.query.q : undefined, page: req.query.page ?? undefined });
    if (!parsed.success) throw new HttpError(400, "Bad search");
    const query = parsed.data;
    const { rows, total } = await searchAccounts(deps.db, deps.municipalityId, { q: query.q, page: query.page, pageSize: PAGE_SIZE });
    const title = ctx.t("accounts.title");
    res.type("html").send(staffPage(ctx, req.originalUrl, { title, section: "accounts", body: listPage(ctx, rows, total, query), flash: takeFlash(req, res, deps) }));
  });

  router.get("/:number", async (req, res) => {
    const ctx = staffContext(req);
    const { t } = ctx;
    const number = parseAccountNumber(req.params.number);
    const detail = await accountDetail(deps.db, deps.municipalityId, number, deps.clock());
    if (!detail) throw new HttpError(404, "No such account");
    const title = isolating(t)("accounts.titleOne", { number });
    const body = html`<div class="page-head">
  <p class="crumbs"><a href="/staff/accounts">${t("accounts.back")}</a></p>
  <h1>${t("accounts.accountLabel")} <bdi dir="ltr">${number}</bdi> <span class="subtitle" dir="auto">${detail.account.holderName}</span></h1>
</div>
<div class="ticket-grid">
  <div class="ticket-main">
    ${balancesCard(ctx, detail)}
    ${statementCard(ctx, detail)}
    ${paymentsCard(ctx, detail)}
    ${attemptsCard(ctx, detail)}
    ${auditCard(ctx, detail)}
  </div>
  <aside class="ticket-side">
    ${holderCard(ctx, detail)}
    ${linksCard(ctx, detail)}
  </aside>
</div>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title, section: "accounts", body, flash: takeFlash(req, res, deps) }));
  });

  return router;
}
