import type { NewPaymentReport } from "../../conversation/types.js";
import { formatAmount } from "../../lib/formatAmount.js";
import type { HotQ } from "./connect.js";
import { fileTicket, type FilingContext } from "./tickets.js";

/** The department whose queue receives payment reports (seeded from seed/departments.json). */
export const FINANCE_DEPARTMENT = "finance";

/**
 * Files a payment a resident says they made: a ticket in the finance department's queue (no
 * category), its PaymentReport (status "reported", for staff to confirm or reject) and the ticket's
 * "created" event. Refuses an account that is not linked to the resident: the conversation only
 * offers linked ones, so anything else is a bug, and must not file a report against a stranger's account.
 * `now` stamps the ticket, its event and the report (Prisma used the wall clock).
 */
export async function reportPayment(q: HotQ, report: NewPaymentReport, filing: Omit<FilingContext, "department">, now: Date): Promise<{ id: number }> {
  const account = await q
    .selectFrom("AccountLink")
    .innerJoin("Account", "Account.id", "AccountLink.accountId")
    .select(["Account.number", "Account.municipalityId"])
    .where("AccountLink.accountId", "=", report.accountId)
    .where("AccountLink.residentId", "=", filing.residentId)
    .executeTakeFirst();
  if (!account || account.municipalityId !== filing.municipalityId) {
    throw new Error(`account ${report.accountId} is not linked to resident ${filing.residentId}`);
  }
  const ticket = await fileTicket(
    q,
    {
      reference: report.reference,
      categoryCode: null,
      description: describe(report, account.number),
      location: null,
      addressText: null,
      media: report.media,
      childRelated: false,
      needsHuman: false,
      startedAt: report.startedAt,
    },
    { ...filing, department: FINANCE_DEPARTMENT },
    now,
  );
  await q
    .insertInto("PaymentReport")
    .values({
      municipalityId: filing.municipalityId,
      ticketId: ticket.id,
      accountId: report.accountId,
      amount: report.amount,
      currency: report.currency,
      paidAt: report.paidAt,
      paymentRef: report.paymentRef,
      status: "reported",
      createdAt: now,
    })
    .execute();
  return ticket;
}

/** The ticket's description, for the finance queue: "Payment reported: 1,250,000 LBP at OMT, receipt 8841, account 10-2345". */
function describe(report: NewPaymentReport, accountNumber: string): string {
  const receipt = report.paymentRef ? `, receipt ${report.paymentRef}` : "";
  return `Payment reported: ${formatAmount(report.amount, report.currency, "en", "western")} at ${report.paidAt}${receipt}, account ${accountNumber}`;
}
