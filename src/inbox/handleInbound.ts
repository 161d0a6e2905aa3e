import type { i18n } from "i18next";
import { assertNever } from "../lib/assertNever.js";
import type { Logger } from "pino";
import { CAPABILITIES } from "../channels/capabilities.js";
import { step } from "../conversation/engine.js";
import { parseState, STATE_VERSION } from "../conversation/state.js";
import { LOCALES, type CategoryView, type Effect, type LinkAccountEffect, type LinkOutcome, type Locale, type Lookups, type NewTicket } from "../conversation/types.js";
import { isUniqueViolation } from "../db/errors.js";
import type { Hot, HotQ } from "../db/hot/connect.js";
import { checkAccountCode, linkAccountWithCode, linkedAccountsOf, linkingLockedFor, recordDisclosure, statementLinesOf } from "../db/hot/accounts.js";
import { conversationState, insertInbound, insertReply, lockUntilCommit, releaseHeld, replyTo, saveConversation, storedReplies, updateMessage } from "../db/hot/inbox.js";
import { reportPayment } from "../db/hot/payments.js";
import {
  declineSurvey,
  hasJoinedSurveys,
  joinSurveys,
  leaveSurveys,
  markSurveyOffered,
  pauseSurvey,
  recordSurveyAnswer,
  resumeSurvey,
  setResidentArea,
  surveyOfResident,
  unfinishedSurveyOf,
} from "../db/hot/surveys.js";
import { residentForInbound, setOptOut, setResidentLocale } from "../db/hot/residents.js";
import { fileTicket, freeReference, linkMessagesToTicket, openTicketsOf, reopenByResident, residentAnswered, residentTicket, staffThreadOf } from "../db/hot/tickets.js";
import { render } from "../i18n/render.js";
import type { CodeCheck, VerifyCode } from "../services/accounts.js";
import type { KeyedQueue } from "../lib/keyedQueue.js";
import { maskPhone } from "../lib/maskPhone.js";
import { CodeCheckNeeded } from "../services/accounts.js";
import { CategoryCache } from "../services/categories.js";
import { hotCategorySource } from "../db/hot/categories.js";
import { hotPlaceSource } from "../db/hot/places.js";
import { locate, type Placement } from "../services/places/locate.js";
import { PlaceCache } from "../services/places/placeCache.js";
import { DEFAULT_CHILD_ZONE_METRES } from "../services/places/placeTypes.js";
import type { RandomInt } from "../services/tickets.js";
import { guardInbound } from "./guardInbound.js";
import type { GuardOptions } from "./inboundGuard.js";
import { REDACTED_CODE, type InboundMessage, type InboundResult } from "./inboundMessage.js";

export interface InboxDeps {
  /** The per-message query layer (see src/db/hot): every query of a message goes through it. */
  hot: Hot;
  i18n: i18n;
  municipalityId: string;
  randomInt: RandomInt;
  logger: Logger;
  /** Serialises messages of one resident within this process. */
  queue: KeyedQueue;
  clock: () => Date;
  /** Digits in amounts and dates sent to residents (config.accounts.digits); Western unless set. */
  amountDigits?: "western" | "arabic";
  /** Checks a bill's code against its hash (scrypt's `verifyPassword` unless a test gives another). */
  verifyCode?: VerifyCode;
  /**
   * The per-phone budget and the loop breaker (see `inboundGuard`); unset values keep their
   * defaults: 20 messages in 10 minutes, 5 echoes in a row, loops lift after 60 quiet minutes.
   */
  guard?: Partial<GuardOptions>;
  /** How long a held WhatsApp reply released by this message may take to get through (OUTBOX_DEADLINE_HOURS). */
  outboxDeadlineMs?: number;
  /** Offer surveys once after a resident's first request (SURVEY_OFFER; default on). */
  surveyOffer?: boolean;
  /** The process's categories, shared with the staff pages that edit them; unset, the inbox keeps its own. */
  categories?: CategoryCache;
  /** The process's places and areas (read when a ticket is filed), shared with the pages that edit them; unset, the inbox keeps its own. */
  places?: PlaceCache;
  /** A request this close to a child-related place is child-related (CHILD_ZONE_METRES; default 150). */
  childZoneMetres?: number;
}

export { REDACTED_CODE } from "./inboundMessage.js";

/** The inbox's dependencies once `createInbox` has filled in what was left unset. */
type WiredDeps = InboxDeps & { categories: CategoryCache; places: PlaceCache };

/** Handles one inbound message end to end; see `handleInbound`. */
export type Inbox = (message: InboundMessage) => Promise<InboundResult>;

/**
 * The road every inbound message travels: deduplicate on the provider's message id, serialise per
 * resident, then in ONE transaction store the message, run the conversation engine, apply its effects,
 * save the new state and the rendered reply. If anything throws, nothing is written. A redelivered
 * message returns the reply stored the first time and changes nothing.
 * On SQLite a bill's code is never hashed inside the transaction (it would hold every other query):
 * when the engine asks for a code check the transaction rolls back, the code is checked outside it,
 * and the message is handled again with the outcome (re-checked inside against the account's
 * current hash). On PostgreSQL it is hashed inside, under the resident's advisory lock.
 */
export function createInbox(given: InboxDeps): Inbox {
  // Without the process's shared cache (tests, the simulator), the inbox keeps its own.
  const deps: WiredDeps = { ...given, categories: given.categories ?? new CategoryCache(), places: given.places ?? new PlaceCache() };
  return (message) =>
    deps.queue.run(`${deps.municipalityId}:${message.from}`, async () => {
      const earlier = await storedReplies(deps.hot.db, message);
      if (earlier) return { replies: earlier, duplicate: true };
      const checks = new Map<string, CodeCheck>();
      for (let round = 1; ; round++) {
        try {
          // Keep it short: on SQLite this transaction holds the process's one connection (no hashing,
          // no provider calls inside; see CodeCheckNeeded).
          return await deps.hot.db.transaction().execute((tx) => handleInTransaction(deps, tx, message, checks));
        } catch (error) {
          // Another process stored the same message id between our check and our insert.
          if (isUniqueViolation(error)) {
            const stored = await storedReplies(deps.hot.db, message);
            if (stored) return { replies: stored, duplicate: true };
          }
          // Each round checks a code the engine had not asked for before (or whose account changed).
          if (error instanceof CodeCheckNeeded && round <= MAX_CODE_CHECKS) {
            const { accountNumber, code } = error.attempt;
            checks.set(codeCheckKey(error.attempt), await checkAccountCode(deps.hot.db, { municipalityId: deps.municipalityId, accountNumber, code }, deps.verifyCode));
            continue;
          }
          throw error;
        }
      }
    });
}

/**
 * The check done before this transaction. On PostgreSQL the code is hashed right here instead:
 * rolling back would release the resident's advisory lock, and another instance could handle their
 * next message meanwhile; a PostgreSQL transaction only holds this resident's lock while it hashes.
 */
async function codeCheckFor(deps: InboxDeps, tx: HotQ, checks: ReadonlyMap<string, CodeCheck>, effect: LinkAccountEffect): Promise<CodeCheck | undefined> {
  const check = checks.get(codeCheckKey(effect));
  if (check || deps.hot.dialect !== "postgres") return check;
  return checkAccountCode(tx, { municipalityId: deps.municipalityId, accountNumber: effect.accountNumber, code: effect.code }, deps.verifyCode);
}

/** Code checks one message may need before giving up (an import rewriting the account each time). */
const MAX_CODE_CHECKS = 3;
const codeCheckKey = (attempt: { accountNumber: string; code: string }) => `${attempt.accountNumber}\u0000${attempt.code}`;

async function handleInTransaction(deps: WiredDeps, tx: HotQ, message: InboundMessage, checks: ReadonlyMap<string, CodeCheck>): Promise<InboundResult> {
  const { municipalityId } = deps;
  if (deps.hot.dialect === "postgres") {
    // Several instances on one database: one resident's messages still run one at a time.
    await lockUntilCommit(tx, `${municipalityId}:${message.from}`);
    // No second duplicate check here: a copy another instance stored meanwhile makes our insert of
    // the message fail on its unique key, and the retry above answers with the stored replies.
  }
  const now = deps.clock();
  const resident = await residentForInbound(tx, {
    municipalityId,
    phone: message.from,
    channel: message.channel,
    route: message.route,
    profileName: message.profileName,
    at: message.receivedAt,
  });
  // A WhatsApp message reopens the 24-hour window: staff replies held for it go out now.
  if (message.channel === "whatsapp") await releaseHeld(tx, resident.id, "whatsapp", now, deps.outboxDeadlineMs);
  const inboundId = await insertInbound(tx, { municipalityId, residentId: resident.id, message, now });
  // A flooding phone or an autoresponder gets one notice, then silence: no engine, no reply, no effects.
  const held = await guardInbound(deps, tx, { resident, inboundId, message, now });
  if (held) return held;
  const storedState = await conversationState(tx, resident.id);
  const { state, reset } = parseState(storedState);
  const residentLocale = LOCALES.find((l) => l === resident.locale) ?? null;

  let result = await step(
    state,
    {
      text: message.text,
      media: message.media,
      ...(message.location ? { location: message.location } : {}),
    },
    {
      now,
      resident: {
        locale: residentLocale,
        optedOut: resident.optedOut,
        // Absent means true: only WhatsApp Web's unresolved LIDs come without a phone number.
        verifiedPhone: message.verifiedPhone !== false,
        surveys: { joined: hasJoinedSurveys(resident), offered: resident.surveyOfferedAt !== null },
      },
      surveyOffer: deps.surveyOffer ?? true,
      capabilities: CAPABILITIES[message.channel],
      lookups: lookupsFor(deps, tx, resident.id, now),
      amountDigits: deps.amountDigits ?? "western",
      stateWasReset: reset,
    },
  );

  const effectContext: EffectContext = {
    municipalityId,
    residentId: resident.id,
    inboundId,
    message,
    locale: result.locale,
    now,
    locate: (ticket) => locateTicket(deps, tx, ticket),
  };
  const applied: string[] = result.effects.map((e) => e.type);
  let ticketId = await applyEffects(tx, result.effects, effectContext);
  // A bill's code: whether it is right decides the rest of the turn (see PendingEffect). The
  // outcome goes back to the engine, whose lookups in this transaction already see a new link.
  while (result.pending) {
    const outcome = await linkAccount(tx, result.pending.effect, effectContext, await codeCheckFor(deps, tx, checks, result.pending.effect));
    applied.push(`${result.pending.effect.type}:${outcome.status}`);
    result = await result.pending.resume(outcome);
    applied.push(...result.effects.map((e) => e.type));
    ticketId = (await applyEffects(tx, result.effects, { ...effectContext, locale: result.locale })) ?? ticketId;
  }

  const stateJson = JSON.stringify(result.state);
  await saveConversation(tx, { municipalityId, residentId: resident.id, state: stateJson, stateVersion: STATE_VERSION, now, existed: storedState !== null });
  const replies = result.replies.length > 0 ? [render(deps.i18n, result.replies, result.locale, message.channel)] : [];
  for (const body of replies) await insertReply(tx, { ...replyTo(message, { municipalityId, residentId: resident.id, inReplyToId: inboundId, now, deadlineMs: deps.outboxDeadlineMs }), ticketId, body });
  deps.logger.info(
    {
      channel: message.channel,
      from: maskPhone(message.from),
      providerMessageId: message.providerMessageId,
      step: result.state.step,
      effects: applied,
      stateReset: reset || undefined,
    },
    "inbound message handled",
  );
  return { replies, duplicate: false };
}

/** The engine's read-only view of the world, for one resident inside this transaction. */
function lookupsFor(deps: WiredDeps, tx: HotQ, residentId: number, now: Date): Lookups {
  let categories: Promise<CategoryView[]> | undefined;
  return {
    categories: () => (categories ??= deps.categories.get(deps.municipalityId, hotCategorySource(tx, deps.municipalityId))),
    openTickets: (limit) => openTicketsOf(tx, residentId, limit),
    ticketByReference: (reference) => residentTicket(tx, deps.municipalityId, residentId, reference),
    freeReference: () => freeReference(tx, deps.municipalityId, deps.randomInt),
    linkedAccounts: () => linkedAccountsOf(tx, deps.municipalityId, residentId),
    statementLines: (accountId, limit) => statementLinesOf(tx, deps.municipalityId, residentId, accountId, limit),
    linkingLocked: () => linkingLockedFor(tx, deps.municipalityId, residentId, now),
    staffThread: () => staffThreadOf(tx, deps.municipalityId, residentId, now),
    survey: (invitationId) => surveyOfResident(tx, residentId, invitationId, now),
    unfinishedSurvey: () => unfinishedSurveyOf(tx, residentId, now),
  };
}

/**
 * Tries the bill's code (recording the attempt, linking on success) and blanks the code out of the
 * stored inbound message: codes are kept only as hashes, never in the conversation history.
 */
async function linkAccount(tx: HotQ, effect: LinkAccountEffect, ctx: EffectContext, check: CodeCheck | undefined): Promise<LinkOutcome> {
  await updateMessage(tx, ctx.inboundId, { body: REDACTED_CODE }, ctx.now);
  return linkAccountWithCode(
    tx,
    { municipalityId: ctx.municipalityId, residentId: ctx.residentId, accountNumber: effect.accountNumber, code: effect.code, now: ctx.now },
    check,
  );
}

/**
 * Where a request is: its pin, else the place named in its address or description (approximate),
 * with its area and child zone. The places are read (through the cache) only here, when a ticket
 * is filed, never for the other messages.
 */
async function locateTicket(deps: WiredDeps, tx: HotQ, ticket: NewTicket): Promise<Placement> {
  const pin = ticket.location ? { latitude: ticket.location.latitude, longitude: ticket.location.longitude } : null;
  // The address the resident gave is where the problem is. Only without one is the description
  // read, and only for a request about a place ("a residence certificate for the public school" is not).
  let texts: string[] = ticket.addressText ? [ticket.addressText] : [];
  if (!ticket.addressText && ticket.description) {
    const categories = await deps.categories.get(deps.municipalityId, hotCategorySource(tx, deps.municipalityId));
    const category = categories.find((c) => c.code === ticket.categoryCode);
    if (!category || category.needsLocation) texts = [ticket.description];
  }
  if (!pin && texts.length === 0) return locate(null, [], [], [], 0);
  try {
    const { places, areas } = await deps.places.get(deps.municipalityId, hotPlaceSource(tx, deps.municipalityId));
    return locate(pin, texts, places, areas, deps.childZoneMetres ?? DEFAULT_CHILD_ZONE_METRES);
  } catch (error) {
    // Odd place data must never cost the resident their request: it is filed with its pin, if any.
    deps.logger.error({ err: error, reference: ticket.reference }, "request not located");
    return pin ? { ...locate(null, [], [], [], 0), latitude: pin.latitude, longitude: pin.longitude } : locate(null, [], [], [], 0);
  }
}

interface EffectContext {
  /** Locates a ticket about to be filed (see `locateTicket`). */
  locate: (ticket: NewTicket) => Promise<Placement>;
  municipalityId: string;
  residentId: number;
  /** The stored row of the message being handled. */
  inboundId: number;
  message: InboundMessage;
  locale: Locale;
  now: Date;
}

/** Applies the engine's effects; returns the id of a ticket filed by this message, if any. */
async function applyEffects(tx: HotQ, effects: readonly Effect[], ctx: EffectContext): Promise<number | null> {
  let ticketId: number | null = null;
  for (const effect of effects) {
    switch (effect.type) {
      case "setLocale":
        await setResidentLocale(tx, ctx.residentId, effect.locale, ctx.now);
        break;
      case "optOut":
        await setOptOut(tx, ctx.residentId, true, ctx.now);
        break;
      case "optIn":
        await setOptOut(tx, ctx.residentId, false, ctx.now);
        break;
      case "fileTicket": {
        const ticket = await fileTicket(
          tx,
          effect.ticket,
          {
            municipalityId: ctx.municipalityId,
            residentId: ctx.residentId,
            channel: ctx.message.channel,
            route: ctx.message.route,
            locale: ctx.locale,
          },
          ctx.now,
          await ctx.locate(effect.ticket),
        );
        ticketId = ticket.id;
        await linkMessagesToTicket(tx, ctx.residentId, ticket.id, effect.ticket.startedAt, ctx.now);
        break;
      }
      case "reopenTicket": {
        // The "1" that reopened it (and the reply) belong to the ticket's conversation.
        const reopened = await reopenByResident(tx, ctx.municipalityId, ctx.residentId, effect.reference, ctx.now);
        if (reopened !== null) {
          ticketId = reopened;
          await updateMessage(tx, ctx.inboundId, { ticketId }, ctx.now);
        }
        break;
      }
      case "addToTicket": {
        const answered = await residentAnswered(tx, ctx.municipalityId, ctx.residentId, effect.reference, ctx.now);
        if (answered === null) break;
        ticketId = answered;
        // A follow-up asked "which request?" first: its messages since then (still on no ticket) go there too.
        if (effect.since) await linkMessagesToTicket(tx, ctx.residentId, ticketId, effect.since, ctx.now);
        else await updateMessage(tx, ctx.inboundId, { ticketId }, ctx.now);
        break;
      }
      case "recordDisclosure":
        await recordDisclosure(tx, {
          municipalityId: ctx.municipalityId,
          residentId: ctx.residentId,
          accountId: effect.accountId,
          kind: effect.kind,
          channel: ctx.message.channel,
          now: ctx.now,
        });
        break;
      case "reportPayment": {
        const ticket = await reportPayment(tx, effect.report, {
          municipalityId: ctx.municipalityId,
          residentId: ctx.residentId,
          channel: ctx.message.channel,
          route: ctx.message.route,
          locale: ctx.locale,
        }, ctx.now);
        ticketId = ticket.id;
        await linkMessagesToTicket(tx, ctx.residentId, ticket.id, effect.report.startedAt, ctx.now);
        break;
      }
      case "joinSurveys":
        await joinSurveys(tx, ctx.residentId, effect.source, ctx.now);
        break;
      case "leaveSurveys":
        await leaveSurveys(tx, ctx.residentId, ctx.now);
        break;
      case "surveyOffered":
        await markSurveyOffered(tx, ctx.residentId, ctx.now);
        break;
      case "surveyAnswer":
        await recordSurveyAnswer(tx, { ...effect, municipalityId: ctx.municipalityId, now: ctx.now });
        break;
      case "pauseSurvey":
        await pauseSurvey(tx, effect.invitationId, ctx.now);
        break;
      case "resumeSurvey":
        await resumeSurvey(tx, effect.invitationId, ctx.now);
        break;
      case "declineSurvey":
        await declineSurvey(tx, effect.invitationId, ctx.now);
        break;
      case "setArea":
        await setResidentArea(tx, ctx.residentId, effect.invitationId, effect.area, ctx.now);
        break;
      default:
        return assertNever(effect);
    }
  }
  return ticketId;
}
