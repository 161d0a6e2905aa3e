import { tokens } from "../understand/normalizeText.js";
import { isCommand, onlyGreets, understand, type Intent } from "../understand/understand.js";
import { assertNever } from "../lib/assertNever.js";
import { accountPrompt, accountQuestion, accountsNeedPhone, chooseAnswer, linkCodeAnswer, linkNumberAnswer, startLinking } from "./flows/accounts.js";
import { chooseTicketAnswer, followUp, whichTicket } from "./flows/followUp.js";
import { human } from "./flows/human.js";
import { advanceIntake, intakeAnswer, promptFor } from "./flows/intake.js";
import { askedSomethingElse, howToPay, isPaymentStep, paymentAnswer, paymentPrompt } from "./flows/payments.js";
import { statusList, statusOf } from "./flows/status.js";
import { joinSurveys, leaveEffects, leaveSurveys, surveyOfferAnswer, surveyQuestion, surveyTurn } from "./flows/survey.js";
import { splitMedia } from "./media.js";
import type { StepResult } from "./result.js";
import { expireStaleDraft, inAccountFlow, initialState, isAtRest, type ConversationState } from "./state.js";
import { atMenu, categoryName, done, draftFrom, hasWords, MAIN_MENU, said, strike, type Turn } from "./turn.js";
import type { Effect, InboundEvent, Locale, Reply, StepContext } from "./types.js";

/** Main menu options, in the order the `menu` text lists them. */
const MENU_OPTIONS = 4;

/** Commands that make sense from anywhere and need nothing of the question being asked. */
const ANSWERED_FROM_ANYWHERE: ReadonlySet<Intent["type"]> = new Set(["help", "menu", "optIn", "switchLanguage", "leaveSurveys"]);

/**
 * One turn of the conversation: the stored state and one resident message in; the next state,
 * the replies (translation keys) and the effects (writes) out. Pure apart from the read-only
 * lookups in `ctx`, so every flow is testable as a transcript.
 * `ctx.stateWasReset` tells that the stored state could not be read and was started afresh.
 */
export async function step(
  stored: ConversationState,
  event: InboundEvent,
  ctx: StepContext & { stateWasReset?: boolean },
): Promise<StepResult> {
  const u = understand(event.text, await ctx.lookups.categories());
  const effects: Effect[] = [];
  const locale: Locale = ctx.resident.locale ?? (u.language === "en" ? "en" : "ar");
  // Remember the language of the first message that clearly shows one; "1", "👍" or "ok" do not.
  if (!ctx.resident.locale && u.language && u.languageIsClear) effects.push({ type: "setLocale", locale });
  // Twilio opts SMS residents out on CANCEL/END/QUIT whatever we say, so those opt out here too.
  const optingOut = u.intent.type === "optOut" || (ctx.capabilities.channel === "sms" && isCommand(tokens(u.normalized), "smsOptOut"));

  if (ctx.resident.optedOut) {
    const turn: Turn = { state: stored, event, ctx, u, locale, preface: [], effects };
    if (u.intent.type === "optIn") return done(turn, atMenu(), [{ key: "optIn.done" }, MAIN_MENU], [{ type: "optIn" }]);
    if (u.intent.type === "help") return done(turn, stored, [{ key: "help.optedOut" }]);
    // Opted out means silence: no reply at all, and the conversation stays where it was.
    return done(turn, stored, []);
  }

  const preface: Reply[] = [];
  if (splitMedia(event.media).unsupported.length > 0) preface.push({ key: "media.unsupported" });
  let turn: Turn = { state: expireStaleDraft(stored, ctx.now), event, ctx, u, locale, preface, effects };

  if (optingOut) return done(turn, initialState(), [{ key: "optOut.done" }], [{ type: "optOut" }]);
  // Accounts are only for the phone number on the bill. However a sender without a verified phone
  // came to be mid-link or mid-payment, they go no further: commands work from a fresh start, and
  // anything else (an account number, a code, an amount) gets the same polite refusal.
  if (!ctx.resident.verifiedPhone && inAccountFlow(turn.state)) {
    turn = { ...turn, state: initialState() };
    if (!ANSWERED_FROM_ANYWHERE.has(u.intent.type)) return accountsNeedPhone(turn);
  }
  // Mid-survey an answer comes first: "0" may be a score, "2" a choice, not the menu.
  if (turn.state.step === "survey" && turn.state.survey && !ctx.stateWasReset) {
    const surveyed = await surveyTurn(turn, turn.state.survey);
    if ("replies" in surveyed) return surveyed;
    turn = surveyed;
  }
  const { state } = turn;
  if (u.intent.type === "leaveSurveys") {
    if (isAtRest(state) || state.step === "survey") return leaveSurveys(turn);
    // Mid-request or mid-payment: confirm, and ask the same question again; nothing is lost.
    return reprompt({ ...turn, preface: [...turn.preface, { key: "survey.left" }], effects: [...turn.effects, ...leaveEffects(turn)] }, state);
  }
  switch (u.intent.type) {
    case "optIn":
      return done(turn, atMenu(), [{ key: "optIn.already" }, MAIN_MENU]);
    case "help":
      return done(turn, { ...state, strikes: 0 }, [{ key: "help.text" }]);
    case "menu":
      return done(turn, atMenu(), [MAIN_MENU]);
    case "cancel":
      return done(turn, atMenu(), [{ key: cancelled(state) }, MAIN_MENU]);
    case "switchLanguage":
      return switchLanguage(turn, u.intent.locale);
    default:
      break;
  }
  // The stored state was unreadable: whatever this message answered is unknown, so start afresh.
  if (ctx.stateWasReset) return done(turn, atMenu(), [{ key: "reset" }, MAIN_MENU]);
  return answer(turn);
}

/** The message read in the context of the question the bot is waiting on. */
async function answer(turn: Turn): Promise<StepResult> {
  const { u, state } = turn;
  // Account numbers, codes, amounts and receipt numbers are numbers too: at those questions a
  // number is the answer, never a request reference or a menu choice.
  const accountAnswer = await answerAboutAccount(turn);
  if (accountAnswer) return accountAnswer;
  // "Which request is your message about?" comes before references: "#10427" there picks one.
  if (state.step === "chooseTicket") {
    const chosen = state.followUp ? await chooseTicketAnswer(turn, state.followUp) : null;
    // Not an answer: read afresh; the follow-up stays on no ticket.
    return chosen ?? answer({ ...turn, state: initialState() });
  }
  // Inside a description or an address, words are the answer: "someone dumped rubbish near building
  // 10427" is neither a request for a person nor a status question. Only a short message is.
  const short = (words: number) => !inWordyStep(state) || u.normalized.split(" ").length <= words;
  // A reference ("10427", "#10427", "حالة 10427") is a status question at any step.
  if (u.intent.type === "status" && u.intent.reference !== undefined && short(3)) return statusOf(turn, u.intent.reference);
  if (u.intent.type === "status" && state.draft && short(5)) return statusList(turn);
  if (u.intent.type === "human" && short(5)) return human(turn, state.draft);
  // "مرحبا" in the middle of a request is not a description: ask the question again.
  if (u.intent.type === "greeting" && inWordyStep(state) && short(3)) return reprompt(turn, state);

  switch (state.step) {
    case "idle":
    case "menu":
      return freeText(turn);
    case "reopenOffer":
      return reopenAnswer(turn, state.reopenReference);
    case "surveyOffer":
      // Anything but yes or no: the offer lapses and the message is read afresh.
      return surveyOfferAnswer(turn) ?? freeText({ ...turn, state: initialState() });
    case "survey":
      // Only without its survey context (surveyTurn handles the rest): read afresh.
      return freeText({ ...turn, state: initialState() });
    case "stuck":
      return stuckAnswer(turn);
    case "category":
    case "confirmCategory":
    case "description":
    case "location":
    case "photo":
    case "confirm":
      return intakeAnswer(turn, state.step);
    case "linkNumber":
    case "linkCode":
    case "chooseAccount":
    case "payAmount":
    case "payCurrency":
    case "payWhere":
    case "payReference":
    case "payPhoto":
      // Not an answer to the account question and not a question of its own: read it afresh.
      return freeText({ ...turn, state: initialState() });
    default:
      return assertNever(state.step);
  }
}

/**
 * At an account or payment question: the answer's result, a reminder of the question (a greeting,
 * a photo alone), a strike, or null when the message is something else entirely ("talk to someone",
 * "how do I pay?") and is read as a fresh message.
 */
async function answerAboutAccount(turn: Turn): Promise<StepResult | null> {
  const { state, u } = turn;
  if (isPaymentStep(state.step)) return state.payment ? paymentAnswer(turn, state.step, state.payment) : null;
  const account = state.account;
  if (!account || (state.step !== "linkNumber" && state.step !== "linkCode" && state.step !== "chooseAccount")) return null;
  const answered =
    state.step === "linkNumber" ? linkNumberAnswer(turn, account) : state.step === "linkCode" ? linkCodeAnswer(turn, account) : await chooseAnswer(turn, account);
  if (answered) return answered;
  if (askedSomethingElse(turn) || u.intent.type === "reportPayment" || (u.intent.type === "newRequest" && hasWords(turn))) return null;
  if (u.intent.type === "greeting") return reprompt(turn, state);
  const retry: Reply =
    state.step === "linkNumber" ? { key: "retry.accountNumber" } : state.step === "linkCode" ? { key: "retry.code" } : { key: "retry.account" };
  return strike(turn, [retry]);
}

/** What "cancel" abandons. */
function cancelled(state: ConversationState): string {
  if (state.draft) return "intake.cancelled";
  if (state.payment) return "payment.cancelled";
  return state.account || state.followUp ? "cancelled" : "nothingToCancel";
}


const inWordyStep = (state: ConversationState) => state.step === "description" || state.step === "location";

/**
 * Idle or at the main menu: a number picks from the menu, words are read for what they ask.
 * Words that ask nothing the bot answers belong to staff: to the ticket staff wrote about lately,
 * else to the resident's open request (see `followUp`); only without one, the menu.
 */
async function freeText(turn: Turn): Promise<StepResult> {
  const { u, event, state } = turn;
  if (u.choice !== null) return menuChoice(turn, u.choice);
  switch (u.intent.type) {
    case "status":
      return statusList(turn);
    case "balance":
      return accountQuestion(turn, "balance");
    case "statement":
      return accountQuestion(turn, "statement");
    case "linkAccount":
      return startLinking(turn, "balance");
    case "reportPayment":
      return accountQuestion(turn, "report");
    case "howToPay":
      return howToPay(turn);
    case "joinSurveys":
      return joinSurveys(turn);
    case "newRequest": {
      // "the pole is in front of the bakery" answering staff about a street light is that request.
      const thread = u.intent.categoryCode ? await turn.ctx.lookups.staffThread() : null;
      if (thread && thread.categoryCode === u.intent.categoryCode) return (await answerToStaff(turn))!;
      const draft = draftFrom(turn);
      if (!u.intent.categoryCode) return advanceIntake(turn, draft);
      draft.categoryCode = u.intent.categoryCode;
      // A message that names the problem in a sentence already describes it.
      if (u.normalized.split(" ").length >= 3) draft.description = event.text.trim();
      return done(turn, { ...initialState(), step: "confirmCategory", draft }, [
        { key: "intake.confirmCategory", params: { category: await categoryName(turn, draft.categoryCode) } },
      ]);
    }
    case "greeting":
      // "مرحبا، إيمتى رح تجوا؟" says more than hello.
      return (
        (await answerToStaff(turn)) ??
        (onlyGreets(u.normalized) ? null : await followUp(turn)) ??
        done(turn, atMenu(), [{ key: "welcome" }, MAIN_MENU])
      );
    default: {
      const toStaff = await answerToStaff(turn);
      if (toStaff) return toStaff;
      const { images } = splitMedia(event.media);
      const brought = images.length > 0 || event.location !== undefined;
      // A photo or a pin on its own starts a request about it; with words, it may be about an open one.
      const followed = brought && !hasWords(turn) ? null : await followUp(turn);
      if (followed) return followed;
      if (brought) {
        const received: Reply = { key: images.length > 0 ? "intake.photoReceived" : "intake.locationReceived" };
        return advanceIntake(turn, draftFrom(turn), [received]);
      }
      if (turn.preface.length > 0) return done(turn, atMenu(), [MAIN_MENU]);
      if (state.step === "menu") return strike(turn, [{ key: "notUnderstood" }, MAIN_MENU]);
      return done(turn, atMenu(), [{ key: "welcome" }, MAIN_MENU]);
    }
  }
}

/** Staff resolved or closed a ticket and told the resident "reply 1 if the problem is still there". */
async function reopenAnswer(turn: Turn, reference: number | undefined): Promise<StepResult> {
  if (reference !== undefined && (turn.u.choice === 1 || said(turn, "yes"))) {
    return done(turn, initialState(), [{ key: "reopen.done", params: { reference } }], [{ type: "reopenTicket", reference }]);
  }
  // Anything else is a fresh start: the offer lapses.
  return freeText({ ...turn, state: initialState() });
}

/**
 * Staff wrote to the resident about a ticket lately: what the resident says now that is not a
 * command or a new request (an answer, a thank-you, the photo staff asked for) goes to that ticket,
 * and staff are told, instead of the bot showing the menu.
 */
async function answerToStaff(turn: Turn): Promise<StepResult | null> {
  const thread = await turn.ctx.lookups.staffThread();
  if (!thread) return null;
  return done(turn, initialState(), [{ key: "thread.added", params: { reference: thread.reference } }], [{ type: "addToTicket", reference: thread.reference }]);
}

async function menuChoice(turn: Turn, choice: number): Promise<StepResult> {
  switch (choice) {
    case 1:
      return advanceIntake(turn, draftFrom(turn));
    case 2:
      return statusList(turn);
    case 3:
      return human(turn, undefined);
    case 4:
      return switchLanguage(turn, turn.locale === "ar" ? "en" : "ar");
    default:
      return strike(turn, [{ key: "retry.number", params: { max: MENU_OPTIONS } }]);
  }
}

/**
 * Switches the resident's language and asks the current question again in it. Mid-request the
 * question itself, now in the new language, is the confirmation: a separate line would cost an SMS segment.
 */
function switchLanguage(turn: Turn, locale: Locale): Promise<StepResult> {
  const atTopLevel = turn.state.step === "idle" || turn.state.step === "menu";
  return reprompt(
    {
      ...turn,
      locale,
      preface: atTopLevel ? [...turn.preface, { key: "language.switched" }] : turn.preface,
      effects: [...turn.effects.filter((e) => e.type !== "setLocale"), { type: "setLocale", locale }],
    },
    turn.state,
  );
}

async function stuckAnswer(turn: Turn): Promise<StepResult> {
  const { u, state } = turn;
  if (u.choice === 1) return human(turn, state.draft);
  if (u.choice === 2) {
    const { resumeStep, ...rest } = state;
    return reprompt(turn, { ...rest, step: resumeStep ?? "menu", strikes: 0 });
  }
  // Words instead of a choice: the resident moved on; read them as a fresh message.
  if (hasWords(turn)) return freeText({ ...turn, state: initialState() });
  return done(turn, state, [{ key: "stuck" }]);
}

/** Asks the current question again (after a language switch, or "try again"). */
async function reprompt(turn: Turn, state: ConversationState): Promise<StepResult> {
  if (state.step === "idle" || state.step === "menu" || state.step === "reopenOffer") return done(turn, atMenu(), [MAIN_MENU]);
  if (state.step === "surveyOffer") return done(turn, { ...state, strikes: 0 }, [{ key: "survey.offer" }]);
  if (state.step === "survey") {
    const survey = state.survey ? await turn.ctx.lookups.survey(state.survey.invitationId) : null;
    if (!survey || !state.survey || !survey.open) return done(turn, atMenu(), [MAIN_MENU]);
    const index = state.survey.question < 0 ? survey.nextQuestion : state.survey.question;
    return done(turn, { ...state, strikes: 0 }, [surveyQuestion(survey, index)]);
  }
  if (state.step === "stuck") return done(turn, state, [{ key: "stuck" }]);
  if (state.step === "chooseTicket") {
    return state.followUp ? done(turn, { ...state, strikes: 0 }, [await whichTicket(turn, state.followUp)]) : done(turn, atMenu(), [MAIN_MENU]);
  }
  if (isPaymentStep(state.step)) return done(turn, { ...state, strikes: 0 }, [paymentPrompt(state.step)]);
  if (state.step === "linkNumber" || state.step === "linkCode" || state.step === "chooseAccount") {
    return done(turn, { ...state, strikes: 0 }, await accountPrompt(turn, state.step));
  }
  return done(turn, { ...state, strikes: 0 }, [await promptFor(turn, state.step, state.draft ?? draftFrom(turn))]);
}
