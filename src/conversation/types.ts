import { z } from "zod";

/** The languages the bot and the staff speak. */
export const LOCALES = ["ar", "en"] as const;
export type Locale = (typeof LOCALES)[number];

/** The channels a resident can reach the town hall on. */
export const CHANNELS = ["sms", "whatsapp"] as const;
export type ChannelKind = (typeof CHANNELS)[number];

export const LocationSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  address: z.string().optional(),
  label: z.string().optional(),
});
export type Location = z.infer<typeof LocationSchema>;

export const MediaSchema = z.object({ url: z.string(), contentType: z.string() });
export type Media = z.infer<typeof MediaSchema>;

/** One message from a resident, in the engine's channel-neutral words. */
export interface InboundEvent {
  text: string;
  location?: Location;
  media: Media[];
}

/** What a channel can carry; the engine adapts its questions to it. Data, not code paths. */
export interface ChannelCapabilities {
  channel: ChannelKind;
  /** Photos and other media can be received. */
  media: boolean;
  /** A location pin can be shared. */
  location: boolean;
  /** Budget of SMS segments for one reply (SMS only). */
  maxSegments: number | null;
  /** Free-form messages may only be sent this long after the resident's last message (WhatsApp: 24). */
  replyWindowHours: number | null;
}

/** A text in both languages, chosen at render time (category names come from the database). */
export interface Localized {
  ar: string;
  en: string;
}

// Direction marks and zero-width characters: invisible, so text made only of them is empty.
const INVISIBLE = /[\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/**
 * Staff-written text a resident will read: no control characters (a NUL cannot even be stored on
 * PostgreSQL), and something visible in it.
 */
export const StaffText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, "control_characters")
    .refine((text) => text.replace(INVISIBLE, "").trim().length > 0, "invisible");
export const LocalizedSchema = z.object({ ar: StaffText(300), en: StaffText(300) });

/** What kind of answer a survey question takes. */
export const SURVEY_QUESTION_TYPES = ["choice", "yesno", "rating", "number", "text"] as const;
export type SurveyQuestionType = (typeof SURVEY_QUESTION_TYPES)[number];

/** One survey question as staff defined it; the bot asks it and reads the answer. */
export const SurveyQuestionSchema = z
  .object({
    type: z.enum(SURVEY_QUESTION_TYPES),
    text: LocalizedSchema,
    /** `choice`: 2-9 numbered options. */
    options: z.array(z.object({ ar: StaffText(60), en: StaffText(60) })).max(9).default([]),
    /** `rating`: 1-5 or 0-10. */
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    /** A `choice` whose answer is the resident's neighbourhood: it sets their area (the option's English name). */
    area: z.boolean().default(false),
  })
  .superRefine((q, ctx) => {
    if (q.type === "choice" && (q.options.length < 2 || q.options.length > 9)) ctx.addIssue({ code: "custom", path: ["options"], message: "choice_options" });
    if (q.type !== "choice" && q.options.length > 0) ctx.addIssue({ code: "custom", path: ["options"], message: "options_only_for_choice" });
    if (q.type === "rating" && !((q.min === 1 && q.max === 5) || (q.min === 0 && q.max === 10))) ctx.addIssue({ code: "custom", path: ["max"], message: "rating_scale" });
    if (q.area && q.type !== "choice") ctx.addIssue({ code: "custom", path: ["area"], message: "area_needs_choice" });
    if (q.type !== "rating" && (q.min !== undefined || q.max !== undefined)) ctx.addIssue({ code: "custom", path: ["max"], message: "scale_only_for_rating" });
  });
export type SurveyQuestion = z.infer<typeof SurveyQuestionSchema>;

/**
 * A question as stored (checked by SurveyQuestionSchema when it was written): read leniently, so a
 * rule added later never makes a stored survey or a run unreadable.
 */
export const StoredSurveyQuestionSchema = z.object({
  type: z.enum(SURVEY_QUESTION_TYPES),
  text: z.object({ ar: z.string(), en: z.string() }),
  options: z.array(z.object({ ar: z.string(), en: z.string() })).default([]),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  area: z.boolean().default(false),
}) satisfies z.ZodType<SurveyQuestion, unknown>;

/** What the bot knows of a survey a resident was invited to. */
export interface SurveyView {
  invitationId: number;
  title: Localized;
  questions: readonly SurveyQuestion[];
  /** The next question to ask (0-based): the one the resident is answering, or the one to resume at. */
  nextQuestion: number;
  /** The run still takes answers; a closed run's late answers are thanked and not counted. */
  open: boolean;
}

/** A reference to another translation key, rendered in the reply's language. */
export interface TextRef {
  $t: string;
  params?: Record<string, ReplyParam>;
}

/** Numbered options shown one per line. */
export interface OptionList {
  options: ReadonlyArray<{ n: number; label: Localized | TextRef | string }>;
}

/** Numbered lines (e.g. a resident's tickets): each line is itself a reply. */
export interface LineList {
  lines: ReadonlyArray<TextRef>;
}

export type ReplyParam = string | number | Localized | TextRef | OptionList | LineList;

/** One thing the bot says, as a translation key with parameters; rendered per locale and channel. */
export interface Reply {
  key: string;
  params?: Record<string, ReplyParam>;
}

/** A ticket about to be filed, as the conversation collected it. */
export interface NewTicket {
  reference: number;
  categoryCode: string | null;
  description: string;
  location: Location | null;
  addressText: string | null;
  media: Media[];
  childRelated: boolean;
  needsHuman: boolean;
  /** When the resident started telling us about it: their messages since then belong to the ticket. */
  startedAt: Date;
}

export const CURRENCIES = ["LBP", "USD"] as const;
export type Currency = (typeof CURRENCIES)[number];

/** A payment a resident says they made, as the conversation collected it; filed as a finance ticket. */
export interface NewPaymentReport {
  /** The ticket's public reference, told to the resident. */
  reference: number;
  /** One of the resident's linked accounts. */
  accountId: number;
  /** A plain decimal string ("1250000", "85.50"): never a float. */
  amount: string;
  currency: Currency;
  /** Where it was paid, as the resident said or chose ("Town hall", "OMT", "Bank Audi Chtaura"). */
  paidAt: string;
  /** The receipt or transfer number; empty when the resident had none. */
  paymentRef: string;
  /** Photos of the receipt (WhatsApp). */
  media: Media[];
  /** When the resident started reporting it: their messages since then belong to the ticket. */
  startedAt: Date;
}

/** The disclosures of account data the audit trail records. */
export type DisclosureKind = "balance_disclosed" | "statement_disclosed";

/** The writes a conversation step asks for; the inbox applies them in the same transaction. */
export type Effect =
  | { type: "setLocale"; locale: Locale }
  | { type: "optOut" }
  | { type: "optIn" }
  | { type: "fileTicket"; ticket: NewTicket }
  | { type: "reopenTicket"; reference: number }
  /**
   * The resident's message belongs to their open ticket `reference` (an answer to staff, a
   * follow-up). With `since`, every message of theirs since then that is on no ticket yet goes
   * there too (the follow-up written before they said which request it was about).
   */
  | { type: "addToTicket"; reference: number; since?: Date }
  | { type: "recordDisclosure"; kind: DisclosureKind; accountId: number }
  | { type: "reportPayment"; report: NewPaymentReport }
  | { type: "joinSurveys"; source: "keyword" | "offer" }
  | { type: "leaveSurveys" }
  /** The one-time offer to join surveys was made (it is never made again). */
  | { type: "surveyOffered" }
  /** An answer to survey question `question` (null: skipped); `next` is the question asked now (= total when done). */
  | { type: "surveyAnswer"; invitationId: number; question: number; value: string | null; next: number }
  /** The resident turned to something else mid-survey: it waits for "survey" or the sender to resume it. */
  | { type: "pauseSurvey"; invitationId: number }
  | { type: "resumeSurvey"; invitationId: number }
  /** "No" to the WhatsApp template's invitation: not this run (it is not offered again). */
  | { type: "declineSurvey"; invitationId: number }
  /** The resident's neighbourhood, from an "area" survey question (the run's breakdown by area uses it too). */
  | { type: "setArea"; area: string; invitationId: number };

/**
 * Try to link an account to the resident's phone with the code printed on the bill. Unlike the
 * effects above, its outcome decides the reply, so it travels as a `PendingEffect` (see result.ts).
 * The code is never stored in the conversation state.
 */
export interface LinkAccountEffect {
  type: "linkAccount";
  /** As typed, digits folded and spaces removed (see `readAccountNumber`). */
  accountNumber: string;
  code: string;
}

/**
 * What trying a code came to. "rejected" stands for a wrong code AND for an account number that
 * does not exist: the two are never told apart. "locked": too many failed tries in the last hour,
 * for this phone or for this account number.
 */
export type LinkOutcome = { status: "linked"; accountId: number } | { status: "rejected" } | { status: "locked" };

/** The bot's view of a category. */
export interface CategoryView {
  code: string;
  name: Localized;
  keywords: readonly string[];
  needsLocation: boolean;
  childRelated: boolean;
}

export const TICKET_STATUSES = ["new", "waiting_staff", "in_progress", "resolved", "closed"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** What a resident may see of one of their own tickets. */
export interface TicketView {
  reference: number;
  categoryCode: string | null;
  status: TicketStatus;
  needsHuman: boolean;
  createdAt: Date;
}

/** What the bot can show a resident about one of their linked accounts. */
export interface AccountView {
  id: number;
  /** As printed on the bill: the payment reference too. */
  number: string;
  holderName: string;
  accountType: "property" | "business" | "other";
  /** What is owed per currency (never mixed), LBP first. */
  balances: ReadonlyArray<{ currency: Currency; amountDue: string; dueDate: Date }>;
  /** The latest payment on the statement, if any. */
  lastPayment: { date: Date; amount: string; currency: Currency } | null;
}

/** One line of an account's statement. */
export interface StatementLineView {
  date: Date;
  kind: "charge" | "payment" | "adjustment";
  description: string;
  currency: Currency;
  amount: string;
  reference: string;
}

/**
 * Read-only questions the engine may ask about the world, scoped to the current resident.
 * The inbox implements them over the database inside the message's transaction; tests use a fake.
 */
export interface Lookups {
  categories(): Promise<readonly CategoryView[]>;
  /** The resident's open tickets, newest first, and how many there are in all. */
  openTickets(limit: number): Promise<{ tickets: TicketView[]; total: number }>;
  /** One of the resident's own tickets; null for someone else's or an unknown reference. */
  ticketByReference(reference: number): Promise<TicketView | null>;
  /** A reference no ticket uses yet. */
  freeReference(): Promise<number>;
  /** The accounts linked to the resident's phone, by account number. */
  linkedAccounts(): Promise<AccountView[]>;
  /** The latest `limit` statement lines of one of the resident's linked accounts, newest first; [] for any other account. */
  statementLines(accountId: number, limit: number): Promise<StatementLineView[]>;
  /** Too many failed linking tries from this phone in the last hour: do not even ask for a code. */
  linkingLocked(): Promise<boolean>;
  /** The open ticket staff wrote to this resident about most recently (last 7 days), if any: a reply belongs there. */
  staffThread(): Promise<{ reference: number; categoryCode: string | null } | null>;
  /** A survey this resident was invited to (null when it is not theirs). */
  survey(invitationId: number): Promise<SurveyView | null>;
  /** The resident's survey left unfinished (paused or never answered) in a run still open, if any. */
  unfinishedSurvey(): Promise<SurveyView | null>;
}

/** Where the resident stands with the town's surveys. */
export interface SurveyConsent {
  joined: boolean;
  /** The one-time offer was already made. */
  offered: boolean;
}

/** What the engine knows about the resident and the moment, besides its own state. */
export interface StepContext {
  now: Date;
  resident: {
    locale: Locale | null;
    optedOut: boolean;
    /**
     * The sender's phone number is known (false: a WhatsApp LID whose number could not be resolved).
     * Accounts belong to the phone number on the bill: an unverified sender is never shown a balance
     * or a statement, never links an account and never reports a payment.
     */
    verifiedPhone: boolean;
    surveys?: SurveyConsent;
  };
  /** Offer surveys once after a resident's request is filed (config SURVEY_OFFER; default on). */
  surveyOffer?: boolean;
  capabilities: ChannelCapabilities;
  lookups: Lookups;
  /** Digits in amounts and dates (config AMOUNT_DIGITS): Arabic-Indic ones are only used in Arabic. */
  amountDigits: "western" | "arabic";
}
