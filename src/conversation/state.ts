import { z } from "zod";
import { LocationSchema, MediaSchema } from "./types.js";

/** Where the conversation stands: which question the bot is waiting for an answer to. */
export const STEPS = [
  "idle",
  "menu",
  "category",
  "confirmCategory",
  "description",
  "location",
  "photo",
  "confirm",
  "stuck",
  "reopenOffer",
  // A follow-up ("when will you come?") while several requests are open: which one is it about?
  "chooseTicket",
  // Accounts: linking a bill to the phone, choosing one of several accounts, reporting a payment.
  "linkNumber",
  "linkCode",
  "chooseAccount",
  "payAmount",
  "payCurrency",
  "payWhere",
  "payReference",
  "payPhoto",
  // Surveys: answering one, and the one-time offer to join them.
  "survey",
  "surveyOffer",
] as const;
export type Step = (typeof STEPS)[number];

/** A request being put together, question by question. */
export const DraftSchema = z.object({
  categoryCode: z.string().optional(),
  description: z.string().optional(),
  location: LocationSchema.optional(),
  addressText: z.string().optional(),
  media: z.array(MediaSchema).default([]),
  childRelated: z.boolean().default(false),
  photoAsked: z.boolean().default(false),
  /** When the resident started this request (ISO time): their messages since then belong to it. */
  startedAt: z.string().optional(),
});
export type Draft = z.infer<typeof DraftSchema>;

/** What the resident asked about their account, kept while they link it or pick one of several. */
export const ACCOUNT_GOALS = ["balance", "statement", "report"] as const;
export type AccountGoal = (typeof ACCOUNT_GOALS)[number];

export const AccountContextSchema = z.object({
  goal: z.enum(ACCOUNT_GOALS),
  /** At "linkCode": the account number just typed (never the code: that only travels in the effect). */
  number: z.string().optional(),
  /** At "chooseAccount": the account ids offered, in the order shown. */
  choices: z.array(z.number().int()).optional(),
  /** When this began (ISO time): an unfinished link or choice lapses like a draft. */
  startedAt: z.string(),
});
export type AccountContext = z.infer<typeof AccountContextSchema>;

/** A payment report being put together, question by question. */
export const PaymentDraftSchema = z.object({
  accountId: z.number().int(),
  amount: z.string().optional(),
  currency: z.enum(["LBP", "USD"]).optional(),
  paidAt: z.string().optional(),
  paymentRef: z.string().optional(),
  media: z.array(MediaSchema).default([]),
  startedAt: z.string(),
});
export type PaymentDraft = z.infer<typeof PaymentDraftSchema>;

/**
 * At "chooseTicket": a message that belongs to one of the resident's open requests, which were
 * listed in this order. `since` (ISO time) is when the follow-up began: the resident's messages
 * since then, still on no ticket, go to the one they choose.
 */
export const FollowUpSchema = z.object({
  tickets: z.array(z.object({ reference: z.number().int(), categoryCode: z.string().nullable() })).min(1),
  since: z.string(),
});
export type FollowUp = z.infer<typeof FollowUpSchema>;

/** At "survey": which invitation, and the question being answered (0-based; -1: the WhatsApp template was sent, no question yet). */
export const SurveyContextSchema = z.object({ invitationId: z.number().int(), question: z.number().int().min(-1) });
export type SurveyContext = z.infer<typeof SurveyContextSchema>;

const StateV1 = z.object({
  version: z.literal(1),
  step: z.enum(STEPS),
  draft: DraftSchema.optional(),
  /** Unusable answers in a row at the current question. */
  strikes: z.number().int().min(0).default(0),
  /** The question to go back to from "stuck". */
  resumeStep: z.enum(STEPS).optional(),
  /** At "reopenOffer": the ticket staff just resolved or closed, which "1" reopens. */
  reopenReference: z.number().int().optional(),
  /** While linking an account or choosing one: what for. */
  account: AccountContextSchema.optional(),
  /** While reporting a payment. */
  payment: PaymentDraftSchema.optional(),
  /** While answering a survey. */
  survey: SurveyContextSchema.optional(),
  /** At "chooseTicket": the follow-up waiting for its request. */
  followUp: FollowUpSchema.optional(),
});
export type ConversationState = z.infer<typeof StateV1>;

export const STATE_VERSION = 1;

export const initialState = (): ConversationState => ({ version: 1, step: "idle", strikes: 0 });

/** After staff resolve or close a ticket: the resident's next "1" reopens it. */
export const reopenOfferState = (reference: number): ConversationState => ({ version: 1, step: "reopenOffer", strikes: 0, reopenReference: reference });

/**
 * Whether the resident is between requests, so the conversation may be steered without losing
 * anything. An unanswered "which request is your message about?" counts: steered elsewhere (a
 * resolution's "reply 1", a survey), the follow-up stays on no ticket, where staff still see it,
 * and the resident's next "1" answers the question they were asked last.
 */
export const isAtRest = (state: ConversationState) =>
  state.step === "idle" || state.step === "menu" || state.step === "reopenOffer" || state.step === "surveyOffer" || state.step === "chooseTicket";

const ACCOUNT_STEPS: ReadonlySet<Step> = new Set(["linkNumber", "linkCode", "chooseAccount", "payAmount", "payCurrency", "payWhere", "payReference", "payPhoto"]);

/** The conversation is linking an account, choosing one or reporting a payment, or is stuck at one of those questions. */
export const inAccountFlow = (state: ConversationState) =>
  state.account !== undefined ||
  state.payment !== undefined ||
  ACCOUNT_STEPS.has(state.step) ||
  (state.step === "stuck" && state.resumeStep !== undefined && ACCOUNT_STEPS.has(state.resumeStep));

// A request left unfinished this long is abandoned: a message days later starts afresh instead of
// becoming the old request's description or address.
const DRAFT_LIFETIME_MS = 24 * 3600_000;

/**
 * The state as the next message will find it: an unfinished request, link or payment, or an
 * unanswered "which request?", lapses after a day.
 */
export function expireStaleDraft(state: ConversationState, now: Date): ConversationState {
  const startedAt = state.draft?.startedAt ?? state.payment?.startedAt ?? state.account?.startedAt ?? state.followUp?.since;
  const started = startedAt ? Date.parse(startedAt) : NaN;
  return now.getTime() - started > DRAFT_LIFETIME_MS ? initialState() : state;
}

/** The state a survey invitation puts the conversation in. `question` -1: the WhatsApp template went out instead. */
export const surveyState = (invitationId: number, question: number): ConversationState => ({ version: 1, step: "survey", strikes: 0, survey: { invitationId, question } });

/**
 * Reads stored state. Anything unreadable — corrupted JSON, an old or future version — becomes a
 * fresh conversation with `reset: true`, so the bot can apologise instead of crashing.
 * Later versions add members to a union tagged on `version` and migrate forward here.
 */
export function parseState(stored: string | null | undefined): { state: ConversationState; reset: boolean } {
  if (stored == null) return { state: initialState(), reset: false };
  try {
    const parsed = StateV1.safeParse(JSON.parse(stored));
    if (parsed.success) return { state: parsed.data, reset: false };
  } catch {
    // fall through: not JSON
  }
  return { state: initialState(), reset: true };
}
