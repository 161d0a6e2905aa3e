import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Tx } from "../../db/createDb.js";
import { HttpError } from "../../lib/httpError.js";
import { confirmPayment, rejectPayment, REJECTION_REASONS, type AmountDigits, type PaymentContext } from "../../services/accountStaff.js";
import { ticketForActor, type ActionError } from "../../services/staffActions.js";
import type { RouterDeps } from "../createApp.js";
import { redirectWithFlash, type FlashMessage } from "./flash.js";
import { formatMoney, isolating } from "./format.js";
import { staffContext, type StaffContext } from "./staffContext.js";
import { deliveryOutcome } from "./ticketActions.js";
import { parseReference } from "./ticketPage.js";

/** The staff pages' dependencies, with how amounts are written to residents (config.accounts.digits; Western when not given). */
export type PaymentDeps = RouterDeps & { amountDigits?: AmountDigits | undefined };

const RejectForm = z.object({
  reason: z.enum(REJECTION_REASONS).optional().catch(undefined),
  note: z.string().max(5000).catch(""),
});

/**
 * The Confirm and Reject buttons of a payment-report ticket: `POST /staff/tickets/:reference/payment/confirm`
 * and `.../payment/reject` (with a reason). Finance agents and admins; the ticket must be one they
 * can open, and it must carry a payment report (404 otherwise).
 */
export function paymentActions(deps: PaymentDeps): Router {
  const router = Router();
  const paymentContext = (): PaymentContext => ({ ...deps.outbox, now: deps.clock(), digits: deps.amountDigits });

  async function decide(
    req: Request,
    res: Response,
    run: (tx: Tx, ctx: StaffContext, paymentReportId: number) => Promise<{ ok: true; flash: FlashMessage[] } | ActionError | FlashMessage>,
    refusalText: (tx: Tx, ctx: StaffContext, paymentReportId: number) => Promise<string>,
  ) {
    const ctx = staffContext(req);
    const reference = parseReference(req.params.reference);
    const back = `/staff/tickets/${reference}`;
    const result = await deps.db.$transaction(async (tx) => {
      const ticket = await ticketForActor(tx, ctx.actor, reference);
      const report = ticket ? await tx.paymentReport.findUnique({ where: { ticketId: ticket.id }, select: { id: true } }) : null;
      if (!report) return { ok: false, error: "not_found", message: `No payment report on #${reference}` } satisfies ActionError;
      const outcome = await run(tx, ctx, report.id);
      // The service says why in English (logs): staff read it in their language.
      if (!("kind" in outcome) && !outcome.ok && outcome.error === "invalid") return { refused: outcome.message, text: await refusalText(tx, ctx, report.id) };
      return outcome;
    });
    if ("refused" in result) {
      deps.logger.info({ reference, error: result.refused }, "payment decision refused");
      return redirectWithFlash(res, deps, back, [{ kind: "error", text: result.text }]);
    }
    if ("kind" in result) return redirectWithFlash(res, deps, back, [result]);
    if (result.ok) return redirectWithFlash(res, deps, back, result.flash);
    if (result.error === "forbidden") throw new HttpError(403, result.message);
    throw new HttpError(result.error === "not_found" ? 404 : 400, result.message);
  }

  /**
   * Why a confirmation was refused, read from the report as it is now: it was rejected meanwhile,
   * or the account has no balance in the payment's currency.
   */
  async function confirmRefusal(tx: Tx, ctx: StaffContext, id: number): Promise<string> {
    const report = await tx.paymentReport.findUniqueOrThrow({ where: { id }, select: { status: true, currency: true, account: { select: { number: true } } } });
    if (report.status === "rejected") return ctx.t("errors:refusals.payment.alreadyRejected");
    return isolating(ctx.t)("errors:refusals.payment.noBalance", { number: report.account.number, currency: report.currency });
  }

  /** Why a rejection was refused: the form was checked here, so the payment was confirmed meanwhile, or the note cannot be stored. */
  async function rejectRefusal(tx: Tx, ctx: StaffContext, id: number): Promise<string> {
    const report = await tx.paymentReport.findUniqueOrThrow({ where: { id }, select: { status: true } });
    return ctx.t(report.status === "confirmed" ? "errors:refusals.payment.alreadyConfirmed" : "errors:refusals.payment.note");
  }

  router.post("/tickets/:reference/payment/confirm", (req, res) =>
    decide(req, res, async (tx, ctx, id) => {
      const result = await confirmPayment(tx, paymentContext(), ctx.actor, id, deps.clock());
      if (!result.ok) return result;
      if (result.outcome === "already_confirmed") return { ok: true, flash: [{ kind: "info", text: ctx.t("payment.alreadyConfirmed") }] };
      return {
        ok: true,
        flash: [
          { kind: "success", text: isolating(ctx.t)("payment.confirmedFlash", { balance: formatMoney(result.balance, result.currency, ctx.locale) }) },
          deliveryOutcome(ctx.t, result.delivery, "notification"),
        ],
      };
    }, confirmRefusal),
  );

  router.post("/tickets/:reference/payment/reject", (req, res) =>
    decide(req, res, async (tx, ctx, id) => {
      const form = RejectForm.parse(req.body ?? {});
      if (!form.reason) return { kind: "error", text: ctx.t("payment.errors.reason") };
      if (form.note.trim().length > 500) return { kind: "error", text: ctx.t("payment.errors.noteTooLong", { max: 500 }) };
      if (form.note.includes("\u0000")) return { kind: "error", text: ctx.t("errors:refusals.payment.note") };
      const result = await rejectPayment(tx, paymentContext(), ctx.actor, id, { reason: form.reason, note: form.note }, deps.clock());
      if (!result.ok) return result;
      if (result.outcome === "already_rejected") return { ok: true, flash: [{ kind: "info", text: ctx.t("payment.alreadyRejected") }] };
      return { ok: true, flash: [{ kind: "success", text: ctx.t("payment.rejectedFlash") }, deliveryOutcome(ctx.t, result.delivery, "notification")] };
    }, rejectRefusal),
  );

  return router;
}
