import { CAPABILITIES } from "../../src/channels/capabilities.js";
import { step } from "../../src/conversation/engine.js";
import { initialState, type ConversationState } from "../../src/conversation/state.js";
import type {
  ChannelKind,
  DisclosureKind,
  Effect,
  InboundEvent,
  LinkAccountEffect,
  LinkOutcome,
  Locale,
  NewPaymentReport,
  NewTicket,
  Reply,
} from "../../src/conversation/types.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import { render } from "../../src/i18n/render.js";
import { smsCost } from "../../src/lib/smsSegments.js";
import { FakeLookups } from "./fakeLookups.js";

const i18n = createI18n();

export interface BotTurn {
  /** The reply keys, in order (`intake.filed`). */
  keys: string[];
  replies: Reply[];
  /** The reply as the resident reads it. */
  text: string;
  segments: number;
  /** Every effect of the turn, including those added after a code's outcome. */
  effects: Effect[];
  /** The code the engine asked the inbox to try this turn, and what came of it. */
  link?: { effect: LinkAccountEffect; outcome: LinkOutcome };
  state: ConversationState;
}

/**
 * A resident chatting with the pure engine: no database, fixed clock, references from 10427 up.
 * Effects are applied to the fake world the way the inbox applies them to the database.
 */
export function engineChat(
  options: {
    channel?: ChannelKind;
    locale?: Locale | null;
    now?: Date;
    amountDigits?: "western" | "arabic";
    surveyOffer?: boolean;
    joinedSurveys?: boolean;
    /** False: a sender whose phone number is not known (a WhatsApp LID); true unless given. */
    verifiedPhone?: boolean;
  } = {},
) {
  const channel = options.channel ?? "sms";
  const lookups = new FakeLookups();
  const resident = {
    locale: options.locale ?? null,
    optedOut: false,
    surveys: { joined: options.joinedSurveys ?? false, offered: false },
    area: null as string | null,
  };
  const filed: NewTicket[] = [];
  const payments: NewPaymentReport[] = [];
  const disclosures: { kind: DisclosureKind; accountId: number }[] = [];
  /** The messages the engine put on a ticket (an answer to staff, a follow-up), as the inbox would. */
  const attached: { reference: number; since?: Date }[] = [];
  let state: ConversationState = initialState();
  let now = options.now ?? new Date("2026-11-29T09:00:00Z");

  async function send(event: InboundEvent, stateWasReset = false): Promise<BotTurn> {
    lookups.now = now;
    const ctx = {
      now,
      resident: { locale: resident.locale, optedOut: resident.optedOut, verifiedPhone: options.verifiedPhone ?? true, surveys: { ...resident.surveys } },
      capabilities: CAPABILITIES[channel],
      lookups,
      amountDigits: options.amountDigits ?? "western",
      surveyOffer: options.surveyOffer ?? false,
    } as const;
    let result = await step(state, event, { ...ctx, stateWasReset });
    const effects = [...result.effects];
    apply(result.effects);
    let link: BotTurn["link"];
    // As the inbox does: the code is tried after the turn's effects, and the engine answers from the outcome.
    while (result.pending) {
      const outcome = lookups.tryLink(result.pending.effect);
      link = { effect: result.pending.effect, outcome };
      result = await result.pending.resume(outcome);
      effects.push(...result.effects);
      apply(result.effects);
    }
    state = result.state;
    const text = result.replies.length ? render(i18n, result.replies, result.locale, channel) : "";
    return {
      keys: result.replies.map((r) => r.key),
      replies: result.replies,
      text,
      segments: text ? smsCost(text).segments : 0,
      effects,
      ...(link ? { link } : {}),
      state,
    };
  }

  function apply(effects: readonly Effect[]) {
    for (const effect of effects) {
      if (effect.type === "setLocale") resident.locale = effect.locale;
      if (effect.type === "optOut") resident.optedOut = true;
      if (effect.type === "optIn") resident.optedOut = false;
      if (effect.type === "fileTicket") {
        filed.push(effect.ticket);
        lookups.tickets.push({
          reference: effect.ticket.reference,
          categoryCode: effect.ticket.categoryCode,
          status: effect.ticket.needsHuman ? "waiting_staff" : "new",
          needsHuman: effect.ticket.needsHuman,
          createdAt: new Date(now.getTime() + filed.length),
        });
      }
      if (effect.type === "addToTicket") {
        attached.push({ reference: effect.reference, ...(effect.since ? { since: effect.since } : {}) });
        // The resident's turn is over: a ticket in progress waits for staff again.
        const ticket = lookups.tickets.find((t) => t.reference === effect.reference);
        if (ticket?.status === "in_progress") ticket.status = "waiting_staff";
      }
      if (effect.type === "recordDisclosure") disclosures.push({ kind: effect.kind, accountId: effect.accountId });
      if (effect.type === "reportPayment") payments.push(effect.report);
      if (effect.type === "joinSurveys") resident.surveys.joined = true;
      if (effect.type === "leaveSurveys") resident.surveys.joined = false;
      if (effect.type === "surveyOffered") resident.surveys.offered = true;
      if (effect.type === "setArea") resident.area = effect.area;
      const survey = "invitationId" in effect ? lookups.surveys.find((s) => s.invitationId === effect.invitationId) : undefined;
      if (survey && effect.type === "surveyAnswer") {
        survey.answers.set(effect.question, effect.value);
        survey.nextQuestion = effect.next;
        survey.paused = false;
      }
      if (survey && effect.type === "pauseSurvey") survey.paused = true;
      if (survey && effect.type === "resumeSurvey") survey.paused = false;
    }
  }

  return {
    lookups,
    resident,
    filed,
    payments,
    disclosures,
    attached,
    /** Moves the clock on (e.g. past a lockout). */
    wait(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    get state() {
      return state;
    },
    set state(next: ConversationState) {
      state = next;
    },
    say: (text: string) => send({ text, media: [] }),
    send,
    /** Feeds the stored state through as unreadable, as the inbox does after a failed parse. */
    sayAfterReset: (text: string) => send({ text, media: [] }, true),
  };
}
