import { assertNever } from "../../lib/assertNever.js";
import { currencyIn, parseAmount } from "../../understand/parseAmount.js";
import { splitMedia } from "../media.js";
import { money } from "../money.js";
import type { StepResult } from "../result.js";
import { initialState, type PaymentDraft, type Step } from "../state.js";
import { atMenu, done, hasWords, MAIN_MENU, said, strike, type Turn } from "../turn.js";
import type { AccountView, Currency, NewPaymentReport, Reply } from "../types.js";

type PaymentStep = Extract<Step, "payAmount" | "payCurrency" | "payWhere" | "payReference" | "payPhoto">;

/** The places offered as numbers at "where did you pay?", stored in these words for the finance office. */
const PLACES = ["Town hall", "Bank transfer", "OMT", "Whish"] as const;
// How many account numbers the payment options repeat as references: two fit the SMS budget.
const REFERENCES_SMS = 2;
const REFERENCES_RICH = 10;

/**
 * "How do I pay?": the municipality's payment options (a text the town edits in locales/) with the
 * linked accounts' numbers as payment references, or a pointer to linking for everyone else (for a
 * sender without a verified phone, to the phone number on the bill).
 */
export async function howToPay(turn: Turn): Promise<StepResult> {
  // The ways to pay are for everyone; a sender without a verified phone has no accounts to look up.
  if (!turn.ctx.resident.verifiedPhone) return done(turn, initialState(), [{ key: "pay.options", params: { reference: { $t: "pay.phoneHint" } } }]);
  const accounts = await turn.ctx.lookups.linkedAccounts();
  const numbers = accounts.slice(0, turn.ctx.capabilities.maxSegments === null ? REFERENCES_RICH : REFERENCES_SMS).map((a) => a.number);
  const more = accounts.length > numbers.length;
  const listed = { ar: numbers.join("، ") + (more ? "…" : ""), en: numbers.join(", ") + (more ? "..." : "") };
  const reference = numbers.length > 0 ? { $t: "pay.reference", params: { numbers: listed } } : { $t: "pay.linkHint" };
  return done(turn, initialState(), [{ key: "pay.options", params: { reference } }]);
}

/** Starts a payment report about one linked account: first, how much. */
export function startPayment(turn: Turn, account: AccountView, lead: Reply[]): StepResult {
  const payment: PaymentDraft = {
    accountId: account.id,
    media: splitMedia(turn.event.media).images,
    startedAt: turn.ctx.now.toISOString(),
  };
  return done(turn, { ...initialState(), step: "payAmount", payment }, [...lead, { key: "payment.askAmount" }]);
}

/** The question for a step of the payment report. */
export function paymentPrompt(step: PaymentStep): Reply {
  switch (step) {
    case "payAmount":
      return { key: "payment.askAmount" };
    case "payCurrency":
      return { key: "payment.askCurrency" };
    case "payWhere":
      return { key: "payment.askWhere" };
    case "payReference":
      return { key: "payment.askReference" };
    case "payPhoto":
      return { key: "payment.askPhoto" };
    default:
      return assertNever(step);
  }
}

export const isPaymentStep = (step: Step): step is PaymentStep =>
  step === "payAmount" || step === "payCurrency" || step === "payWhere" || step === "payReference" || step === "payPhoto";

/**
 * The resident answers a question of the payment report. Null when the message does not answer it
 * and says something else (the engine then reads it afresh).
 */
export async function paymentAnswer(turn: Turn, step: PaymentStep, draft: PaymentDraft): Promise<StepResult | null> {
  const account = (await turn.ctx.lookups.linkedAccounts()).find((a) => a.id === draft.accountId);
  // Staff unlinked the account meanwhile: nothing to report against.
  if (!account) return done(turn, atMenu(), [MAIN_MENU]);
  const images = splitMedia(turn.event.media).images;
  const withMedia: PaymentDraft = { ...draft, media: [...draft.media, ...images] };
  const text = turn.event.text.trim();

  switch (step) {
    case "payAmount": {
      const parsed = parseAmount(text);
      if (!parsed) return images.length > 0 && !text ? ask(turn, withMedia, step) : retryOrNull(turn, withMedia, { key: "retry.amount" });
      const currency = parsed.currency ?? onlyCurrency(account);
      const next: PaymentDraft = { ...withMedia, amount: parsed.amount, ...(currency ? { currency } : {}) };
      return ask(turn, next, currency ? "payWhere" : "payCurrency");
    }
    case "payCurrency": {
      const currency: Currency | null = turn.u.choice === 1 ? "LBP" : turn.u.choice === 2 ? "USD" : currencyIn(text);
      if (!currency) return retryOrNull(turn, withMedia, { key: "retry.currency" });
      return ask(turn, { ...withMedia, currency }, "payWhere");
    }
    case "payWhere": {
      const place = turn.u.choice !== null ? PLACES[turn.u.choice - 1] : hasWords(turn) ? text.slice(0, 100) : undefined;
      if (askedSomethingElse(turn)) return null;
      if (!place) return images.length > 0 && !text ? ask(turn, withMedia, step) : strikeKeeping(turn, withMedia, { key: "retry.where" });
      return ask(turn, { ...withMedia, paidAt: place }, "payReference");
    }
    case "payReference": {
      if (said(turn, "skip") || turn.u.choice === 1) return afterReference(turn, { ...withMedia, paymentRef: "" }, account);
      // A photo of the receipt alone answers nothing yet: keep it and ask again.
      if (!text && images.length > 0) return ask(turn, withMedia, step);
      if (askedSomethingElse(turn)) return null;
      if (!/[\p{L}\p{N}]/u.test(text)) return strikeKeeping(turn, withMedia, { key: "retry.reference" });
      return afterReference(turn, { ...withMedia, paymentRef: text.slice(0, 60) }, account);
    }
    case "payPhoto":
      if (images.length > 0 || said(turn, "skip") || said(turn, "yes") || turn.u.choice === 1) return fileReport(turn, withMedia, account);
      return strikeKeeping(turn, withMedia, { key: "retry.photo" });
    default:
      return assertNever(step);
  }
}

function ask(turn: Turn, payment: PaymentDraft, step: PaymentStep): StepResult {
  return done(turn, { ...initialState(), step, payment }, [paymentPrompt(step)]);
}

/** Words that ask something else ("how do I pay?") leave the report; anything else is a strike. */
function retryOrNull(turn: Turn, payment: PaymentDraft, retry: Reply): StepResult | null {
  if (askedSomethingElse(turn)) return null;
  return strikeKeeping(turn, payment, retry);
}

/** An unusable answer, with any photo it brought kept on the report. */
const strikeKeeping = (turn: Turn, payment: PaymentDraft, retry: Reply) => strike({ ...turn, state: { ...turn.state, payment } }, [retry]);

/**
 * The message asks for something else: a person, the status of requests, the balance, the statement,
 * how to pay or linking another account. A bare number (a receipt number like "123456") never does,
 * and "I paid at the bank" is an answer, not a new report.
 */
export function askedSomethingElse(turn: Turn): boolean {
  if (!hasWords(turn)) return false;
  const { intent } = turn.u;
  return (
    intent.type === "human" ||
    intent.type === "balance" ||
    intent.type === "statement" ||
    intent.type === "howToPay" ||
    intent.type === "linkAccount" ||
    (intent.type === "status" && intent.reference === undefined)
  );
}

/** On WhatsApp a photo of the receipt is asked for, unless one came already. */
function afterReference(turn: Turn, payment: PaymentDraft, account: AccountView): Promise<StepResult> | StepResult {
  if (turn.ctx.capabilities.media && payment.media.length === 0) return ask(turn, payment, "payPhoto");
  return fileReport(turn, payment, account);
}

/** The account bills in a single currency: an amount without one is in it. */
function onlyCurrency(account: AccountView): Currency | null {
  const currencies = new Set(account.balances.map((b) => b.currency));
  return currencies.size === 1 ? [...currencies][0]! : null;
}

/** Files the report as a finance ticket and gives the resident its reference. */
async function fileReport(turn: Turn, payment: PaymentDraft, account: AccountView): Promise<StepResult> {
  if (!payment.amount || !payment.currency || !payment.paidAt) return ask(turn, payment, !payment.amount ? "payAmount" : !payment.currency ? "payCurrency" : "payWhere");
  const reference = await turn.ctx.lookups.freeReference();
  const report: NewPaymentReport = {
    reference,
    accountId: account.id,
    amount: payment.amount,
    currency: payment.currency,
    paidAt: payment.paidAt,
    paymentRef: payment.paymentRef ?? "",
    media: payment.media,
    startedAt: new Date(payment.startedAt),
  };
  return done(
    turn,
    initialState(),
    [{ key: "payment.filed", params: { amount: money(turn.ctx, payment.amount, payment.currency), number: account.number, reference } }],
    [{ type: "reportPayment", report }],
  );
}
