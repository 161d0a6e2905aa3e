import type { NewPaymentReport } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { formatAmount } from "../lib/formatAmount.js";
import { fileTicket, type FilingContext } from "./tickets.js";

/** The department whose queue receives payment reports (seeded from seed/departments.json). */
export const FINANCE_DEPARTMENT = "finance";

/**
 * Files a payment a resident says they made: a ticket in the finance department's queue (no
 * category), its PaymentReport (status "reported", for staff to confirm or reject) and the ticket's
 * "created" event. Refuses an account that is not linked to the resident: the conversation only
 * offers linked ones, so anything else is a bug, and must not file a report against a stranger's account.
 */
export async function reportPayment(tx: Tx, report: NewPaymentReport, filing: Omit<FilingContext, "department">) {
  const link = await tx.accountLink.findUnique({
    where: { accountId_residentId: { accountId: report.accountId, residentId: filing.residentId } },
    include: { account: { select: { number: true, municipalityId: true } } },
  });
  if (!link || link.account.municipalityId !== filing.municipalityId) {
    throw new Error(`account ${report.accountId} is not linked to resident ${filing.residentId}`);
  }
  const ticket = await fileTicket(
    tx,
    {
      reference: report.reference,
      categoryCode: null,
      description: describe(report, link.account.number),
      location: null,
      addressText: null,
      media: report.media,
      childRelated: false,
      needsHuman: false,
      startedAt: report.startedAt,
    },
    { ...filing, department: FINANCE_DEPARTMENT },
  );
  await tx.paymentReport.create({
    data: {
      municipalityId: filing.municipalityId,
      ticketId: ticket.id,
      accountId: report.accountId,
      amount: report.amount,
      currency: report.currency,
      paidAt: report.paidAt,
      paymentRef: report.paymentRef,
      status: "reported",
    },
  });
  return ticket;
}

/** The ticket's description, for the finance queue: "Payment reported: 1,250,000 LBP at OMT, receipt 8841, account 10-2345". */
function describe(report: NewPaymentReport, accountNumber: string): string {
  const receipt = report.paymentRef ? `, receipt ${report.paymentRef}` : "";
  return `Payment reported: ${formatAmount(report.amount, report.currency, "en", "western")} at ${report.paidAt}${receipt}, account ${accountNumber}`;
}
