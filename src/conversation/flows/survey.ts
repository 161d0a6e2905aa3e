import { readSurveyAnswer } from "../../understand/readSurveyAnswer.js";
import { splitMedia } from "../media.js";
import type { StepResult } from "../result.js";
import { initialState, surveyState, type SurveyContext } from "../state.js";
import { atMenu, done, said, type Turn } from "../turn.js";
import type { Effect, Locale, Reply, SurveyQuestion, SurveyView } from "../types.js";

/**
 * Surveys inside the conversation: the invitation (sent by the survey job) leaves the conversation at
 * "survey" with the question just asked; each answer is recorded and the next question asked, the
 * last one thanked. An unusable answer is asked once more, then skipped. A resident who turns to
 * something else (a pothole, their request's status, the menu) is not trapped: the survey pauses,
 * the message is read as any other, and "survey" (or the job, later) resumes it where it stopped.
 */

/** Asks question `index` of a survey: "2/4 How satisfied…?" and how to answer it. */
export function surveyQuestion(survey: Pick<SurveyView, "questions">, index: number): Reply {
  const question = survey.questions[index]!;
  const base = { n: index + 1, total: survey.questions.length, text: { ar: question.text.ar, en: question.text.en } };
  const hint = answerHint(question);
  return hint ? { key: "survey.ask", params: { ...base, hint } } : { key: "survey.askText", params: base };
}

function answerHint(question: SurveyQuestion) {
  switch (question.type) {
    case "choice":
      return { options: question.options.map((label, i) => ({ n: i + 1, label: { ar: label.ar, en: label.en } })) };
    case "yesno":
      return { $t: "survey.hint.yesno" };
    case "rating":
      return { $t: "survey.hint.rating", params: { min: question.min ?? 1, max: question.max ?? 5 } };
    case "number":
      return { $t: "survey.hint.number" };
    case "text":
      return null;
  }
}

/** The invitation to a run, in the resident's language: the survey's name, its intro, the first question. */
export function surveyInvitation(survey: Pick<SurveyView, "questions" | "title"> & { intro?: { ar: string; en: string } | null }): Reply[] {
  return [
    { key: "survey.invite", params: { title: survey.title } },
    ...(survey.intro ? [{ key: "survey.intro", params: { intro: survey.intro } }] : []),
    surveyQuestion(survey, 0),
  ];
}

/** What the job says when it picks up a survey the resident left paused. */
export const surveyResumption = (survey: Pick<SurveyView, "questions">, index: number): Reply[] => [{ key: "survey.resume" }, surveyQuestion(survey, index)];

/**
 * A message while the conversation is at "survey". A result when it was about the survey; a turn
 * to carry on with (state afresh, the survey paused) when the resident turned to something else.
 */
export async function surveyTurn(turn: Turn, context: SurveyContext): Promise<StepResult | Turn> {
  const { u } = turn;
  const survey = await turn.ctx.lookups.survey(context.invitationId);
  const afresh = (preface: Reply[] = [], effects: Effect[] = []): Turn => ({
    ...turn,
    state: initialState(),
    preface: [...turn.preface, ...preface],
    effects: [...turn.effects, ...effects],
  });
  if (!survey || u.intent.type === "leaveSurveys") return afresh();
  const question = survey.questions[context.question];
  if (!survey.open) {
    // A late answer ("4", "نعم") is thanked and not counted; anything else (a new request days later,
    // a greeting) is read as any message would be.
    const late = question && question.type !== "text" ? readSurveyAnswer(turn.event.text, question) : null;
    return late?.kind === "answer" && !interrupts(turn, question) ? done(turn, atMenu(), [{ key: "survey.closed" }]) : afresh();
  }
  if (u.intent.type === "switchLanguage") return switchSurveyLanguage(turn, u.intent.locale, survey, context);
  const pause = () => afresh([{ key: "survey.paused" }], [{ type: "pauseSurvey", invitationId: survey.invitationId }]);
  if (context.question < 0 || !question) {
    // The WhatsApp template went out: whatever the resident answers starts it, unless they want something else.
    if (interrupts(turn, undefined)) return pause();
    if (turn.u.choice === 2 || said(turn, "no")) return done(turn, atMenu(), [{ key: "survey.declinedRun" }], [{ type: "declineSurvey", invitationId: survey.invitationId }]);
    return ask(turn, survey, survey.nextQuestion, [], [{ type: "resumeSurvey", invitationId: survey.invitationId }]);
  }
  // Any words answer a free-answer question, so what is not an answer must be told apart first.
  if (question.type === "text" && interrupts(turn, question)) return pause();
  const reading = readSurveyAnswer(turn.event.text, question);
  if (reading.kind === "answer") return next(turn, survey, context.question, reading.value);
  if (reading.kind === "skip") return next(turn, survey, context.question, null);
  if (interrupts(turn, question)) return pause();
  if (u.intent.type === "help") return done(turn, { ...turn.state, strikes: 0 }, [{ key: "survey.help" }, surveyQuestion(survey, context.question)]);
  // Asked once more, then skipped.
  if (turn.state.strikes === 0) return done(turn, { ...turn.state, strikes: 1 }, [{ key: "survey.retry" }, surveyQuestion(survey, context.question)]);
  return next(turn, survey, context.question, null);
}

/**
 * Does the message ask for something else? Commands always do; on a free-answer question any words
 * are the answer ("fix the potholes on the main road" answers "what should we fix first?").
 */
function interrupts(turn: Turn, question: SurveyQuestion | undefined): boolean {
  const { u, event } = turn;
  const intent = u.intent.type;
  if (intent === "menu" || intent === "cancel" || (intent === "status" && u.intent.reference !== undefined)) return true;
  // A photo or a pin is a report on its way, never an answer (it would be lost).
  const { images } = splitMedia(event.media);
  if (images.length > 0 || event.location) return true;
  const elsewhere = ["status", "human", "balance", "statement", "linkAccount", "howToPay", "reportPayment"].includes(intent);
  // On a free-answer question a problem described in words is the answer; questions about the
  // resident's own requests or account are not.
  if (question?.type === "text") return elsewhere && !hasManyWords(turn);
  return elsewhere || intent === "newRequest";
}

/** A sentence rather than a short command ("my requests", "بدي احكي مع موظف"). */
const hasManyWords = (turn: Turn) => turn.u.normalized.split(" ").length > 6;

function next(turn: Turn, survey: SurveyView, index: number, value: string | null): StepResult {
  const effects: Effect[] = [{ type: "surveyAnswer", invitationId: survey.invitationId, question: index, value, next: index + 1 }];
  const question = survey.questions[index]!;
  const option = question.area && value !== null ? question.options[Number(value) - 1] : undefined;
  if (option) effects.push({ type: "setArea", area: option.en, invitationId: survey.invitationId });
  return ask(turn, survey, index + 1, [], effects);
}

function ask(turn: Turn, survey: SurveyView, index: number, preface: Reply[], effects: Effect[]): StepResult {
  if (index >= survey.questions.length) return done(turn, initialState(), [...preface, { key: "survey.thanks" }], effects);
  return done(turn, surveyState(survey.invitationId, index), [...preface, surveyQuestion(survey, index)], effects);
}

function switchSurveyLanguage(turn: Turn, locale: Locale, survey: SurveyView, context: SurveyContext): StepResult {
  const switched: Turn = { ...turn, locale, effects: [...turn.effects.filter((e) => e.type !== "setLocale"), { type: "setLocale", locale }] };
  const index = context.question < 0 ? survey.nextQuestion : context.question;
  return done(switched, surveyState(survey.invitationId, index), [surveyQuestion(survey, index)]);
}

/** "استطلاع" / "survey": resume the resident's unfinished survey, or join. */
export async function joinSurveys(turn: Turn): Promise<StepResult> {
  const consent = turn.ctx.resident.surveys;
  const unfinished = consent?.joined ? await turn.ctx.lookups.unfinishedSurvey() : null;
  if (unfinished) {
    return ask(turn, unfinished, unfinished.nextQuestion, [{ key: "survey.resume" }], [{ type: "resumeSurvey", invitationId: unfinished.invitationId }]);
  }
  if (consent?.joined) return done(turn, atMenu(), [{ key: "survey.alreadyJoined" }]);
  return done(turn, atMenu(), [{ key: "survey.joined" }], [{ type: "joinSurveys", source: "keyword" }]);
}

/** "stop surveys": surveys only; everything else keeps working. Confirmed once, whatever the state. */
export function leaveSurveys(turn: Turn): StepResult {
  return done(turn, initialState(), [{ key: "survey.left" }], leaveEffects(turn));
}

/** The write "stop surveys" makes: none for a resident who never joined. */
export const leaveEffects = (turn: Turn): Effect[] => (turn.ctx.resident.surveys?.joined ? [{ type: "leaveSurveys" }] : []);

/** After a request is filed: offer surveys, once per resident ever, unless they joined already. */
export function shouldOfferSurveys(turn: Turn): boolean {
  const consent = turn.ctx.resident.surveys;
  return !!turn.ctx.surveyOffer && !!consent && !consent.joined && !consent.offered;
}

/** The answer to the one-time offer; null when the message is about something else. */
export function surveyOfferAnswer(turn: Turn): StepResult | null {
  if (turn.u.choice === 1 || said(turn, "yes")) return done(turn, atMenu(), [{ key: "survey.joined" }], [{ type: "joinSurveys", source: "offer" }]);
  if (turn.u.choice === 2 || said(turn, "no")) return done(turn, atMenu(), [{ key: "survey.declined" }]);
  return null;
}
