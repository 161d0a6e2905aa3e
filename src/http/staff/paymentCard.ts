import type { Db } from "../../db/createDb.js";
import { accountsOfResident, canWorkAccounts, REJECTION_REASONS } from "../../services/accountStaff.js";
import type { Actor } from "../../services/staff.js";
import { accountHref, attemptBadge, paymentStatusBadge } from "./accountPages.js";
import { selectField, type Option } from "./components.js";
import { formatDate, formatDateTime, formatMoney, isolating } from "./format.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { csrfField } from "./layout.js";
import type { StaffContext } from "./staffContext.js";

/**
 * What the ticket page shows about accounts: the payment the ticket reports (if it is a payment
 * report), and — for finance staff and admins — the accounts the resident's phone is linked to and
 * its latest verification attempts.
 */
export async function ticketAccountInfo(db: Db, actor: Actor, ticket: { id: number; residentId: number; municipalityId: string }) {
  const [report, phone] = await Promise.all([
    db.paymentReport.findUnique({
      where: { ticketId: ticket.id },
      include: { account: { select: { number: true, holderName: true, balances: { orderBy: { currency: "asc" } } } } },
    }),
    canWorkAccounts(actor) ? accountsOfResident(db, ticket.municipalityId, ticket.residentId) : null,
  ]);
  const confirmedBy = report?.confirmedById ? await db.staff.findUnique({ where: { id: report.confirmedById }, select: { displayName: true } }) : null;
  return { report, confirmedBy: confirmedBy?.displayName ?? null, phone };
}
export type TicketAccountInfo = Awaited<ReturnType<typeof ticketAccountInfo>>;

const row = (label: string, value: HtmlValue) => html`<div class="dl-row"><dt>${label}</dt><dd>${value}</dd></div>`;

/** The reported payment with its receipt, and Confirm / Reject for those who may decide. */
export function paymentCard(ctx: StaffContext, reference: number, info: TicketAccountInfo, receipt: HtmlValue): HtmlValue {
  const { report } = info;
  if (!report) return null;
  const { t, locale, actor } = ctx;
  const may = canWorkAccounts(actor);
  const balance = report.account.balances.find((b) => b.currency === report.currency);
  const reasons: Option[] = [{ value: "", label: t("payment.chooseReason") }, ...REJECTION_REASONS.map((r) => ({ value: r, label: t(`payment.reasons.${r}`) }))];
  return html`<section class="card card-payment" aria-labelledby="payment-title">
  <h2 id="payment-title">${t("payment.title")} ${paymentStatusBadge(ctx, report.status)}</h2>
  <dl class="dl">
    ${row(t("payment.amount"), html`<strong dir="auto">${formatMoney(report.amount, report.currency, locale)}</strong>`)}
    ${row(t("payment.paidAt"), html`<span dir="auto">${report.paidAt}</span>`)}
    ${row(t("payment.reference"), report.paymentRef ? html`<span class="mono" dir="ltr">${report.paymentRef}</span>` : html`<span class="muted">${t("payment.noReference")}</span>`)}
    ${row(t("payment.account"), may ? html`<a href="${accountHref(report.account.number)}" dir="ltr">${report.account.number}</a> <span dir="auto">${report.account.holderName}</span>` : html`<span dir="ltr">${report.account.number}</span>`)}
    ${balance && row(t("payment.balanceNow"), html`<span dir="auto">${formatMoney(balance.amountDue, balance.currency, locale)}</span> <small class="muted">${isolating(t)("accounts.due", { date: formatDate(balance.dueDate, locale) })}</small>`)}
    ${row(t("payment.reportedAt"), formatDateTime(report.createdAt, locale))}
    ${report.status === "confirmed" && report.confirmedAt && row(t("payment.decided"), isolating(t)("payment.confirmedBy", { name: info.confirmedBy ?? t("history.formerStaff"), when: formatDateTime(report.confirmedAt, locale) }))}
  </dl>
  <h3>${t("payment.receipt")}</h3>
  ${receipt ?? html`<p class="muted">${t("payment.noReceipt")}</p>`}
  ${
    may &&
    report.status === "reported" &&
    html`<div class="payment-decision">
    <form method="post" action="/staff/tickets/${reference}/payment/confirm" class="stack action">
      ${csrfField(ctx)}
      <p class="hint">${t("payment.confirmHint")}</p>
      <button type="submit" class="btn btn-primary">${t("payment.confirm")}</button>
    </form>
    <form method="post" action="/staff/tickets/${reference}/payment/reject" class="stack action">
      ${csrfField(ctx)}
      ${selectField(t("payment.reason"), "reason", reasons, "", { required: true })}
      <label class="field"><span>${t("payment.note")}</span><textarea name="note" rows="2" maxlength="500" dir="auto"></textarea></label>
      <p class="hint">${t("payment.rejectHint")}</p>
      <button type="submit" class="btn btn-secondary btn-danger-text">${t("payment.reject")}</button>
    </form>
  </div>`
  }
</section>`;
}

/** For finance staff and admins: the accounts this phone may see, and its latest verification attempts. */
export function phoneAccountsCard(ctx: StaffContext, info: TicketAccountInfo): HtmlValue {
  const { phone } = info;
  if (!phone) return null;
  const { t, locale } = ctx;
  return html`<section class="card" aria-labelledby="phone-accounts-title">
  <h2 id="phone-accounts-title">${t("phoneAccounts.title")}</h2>
  ${
    phone.links.length === 0
      ? html`<p class="muted">${t("phoneAccounts.noLinks")}</p>`
      : html`<ul class="plain-list links">${phone.links.map(
          (l) => html`<li><a href="${accountHref(l.account.number)}" dir="ltr">${l.account.number}</a> <span dir="auto">${l.account.holderName}</span> <small class="muted">${t(l.linkedBy === "staff" ? "accounts.how.staff" : "accounts.how.code")}</small></li>`,
        )}</ul>`
  }
  <h3>${t("phoneAccounts.attempts")}</h3>
  ${
    phone.attempts.length === 0
      ? html`<p class="muted">${t("accounts.noAttempts")}</p>`
      : html`<ul class="plain-list attempts">${phone.attempts.map(
          (a) => html`<li><time datetime="${a.createdAt.toISOString()}">${formatDateTime(a.createdAt, locale)}</time> <span dir="ltr" class="mono">${a.accountNumber}</span> ${attemptBadge(ctx, a.success)}</li>`,
        )}</ul>`
  }
</section>`;
}

/** The ticket history's lines for payment decisions. */
export function paymentEventDescription(ctx: StaffContext, kind: "payment_confirmed" | "payment_rejected", data: Record<string, unknown>): SafeHtml {
  const { t, locale } = ctx;
  if (kind === "payment_confirmed") {
    const amount = typeof data.amount === "string" && /^-?\d+(\.\d+)?$/.test(data.amount) ? formatMoney(data.amount, String(data.currency), locale) : "";
    return html`${isolating(t)("history.paymentConfirmed", { amount, reference: typeof data.statementReference === "string" ? data.statementReference : "" })}`;
  }
  const reason = typeof data.reason === "string" && (REJECTION_REASONS as readonly string[]).includes(data.reason) ? t(`payment.reasons.${data.reason}`) : "";
  return html`${t("history.paymentRejected", { reason })}${typeof data.note === "string" && data.note ? html`<div class="note-text" dir="auto">${data.note}</div>` : null}`;
}
