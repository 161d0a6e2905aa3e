import type { i18n } from "i18next";
import { surveyInvitation, surveyQuestion } from "../../conversation/flows/survey.js";
import { LOCALES, type ChannelKind, type Locale, type Localized, type Reply, type SurveyQuestion } from "../../conversation/types.js";
import type { Db } from "../../db/createDb.js";
import { render } from "../../i18n/render.js";
import { smsCost } from "../../lib/smsSegments.js";
import { surveyAudience } from "./audience.js";
import type { Audience } from "./definition.js";

/** The most SMS segments any one message of a survey may cost (the bot's own budget). */
export const MAX_SURVEY_SEGMENTS = 2;

/** One message a resident receives during a survey, as they read it. */
export interface SurveyMessage {
  /** "invite" (with the first question), "question" (the nth, from the second), "retry" (a question asked again), "thanks". */
  kind: "invite" | "question" | "retry" | "thanks";
  /** The question it asks (0-based), when it asks one. */
  question: number | null;
  text: string;
  segments: number;
  encoding: string;
}

interface Definition {
  title: Localized;
  intro: Localized | null;
  questions: readonly SurveyQuestion[];
}

/**
 * Every message of a survey in one language, rendered exactly as the bot sends it (same locale
 * texts, same renderer, same segment counter). `retry` messages go out only after an unusable
 * answer; the others make up one resident's survey.
 */
export function surveyMessages(i18next: i18n, survey: Definition, locale: Locale, channel: ChannelKind = "sms"): SurveyMessage[] {
  const message = (kind: SurveyMessage["kind"], question: number | null, replies: Reply[]): SurveyMessage => {
    const text = render(i18next, replies, locale, channel);
    const cost = smsCost(text);
    return { kind, question, text, segments: cost.segments, encoding: cost.encoding };
  };
  const messages = [message("invite", 0, surveyInvitation(survey))];
  survey.questions.forEach((_, i) => {
    if (i > 0) messages.push(message("question", i, [surveyQuestion(survey, i)]));
  });
  messages.push(message("thanks", null, [{ key: "survey.thanks" }]));
  survey.questions.forEach((_, i) => messages.push(message("retry", i, [{ key: "survey.retry" }, surveyQuestion(survey, i)])));
  return messages;
}

/** SMS segments one resident's survey costs when they answer every question (retries not counted). */
export const segmentsPerResident = (messages: readonly SurveyMessage[]) => messages.filter((m) => m.kind !== "retry").reduce((sum, m) => sum + m.segments, 0);

/** Messages over the budget, in either language: the survey cannot be scheduled until they are shortened. */
export function surveyTooLong(i18next: i18n, survey: Definition): Array<SurveyMessage & { locale: Locale }> {
  return LOCALES.flatMap((locale) => surveyMessages(i18next, survey, locale).filter((m) => m.segments > MAX_SURVEY_SEGMENTS).map((m) => ({ ...m, locale })));
}

/** What a run would cost, as staff confirm it before scheduling. */
export interface SurveyEstimate {
  recipients: { total: number; sms: number; whatsapp: number; byLocale: Record<Locale, { sms: number; whatsapp: number }> };
  /** SMS segments for one resident who answers everything, per language. */
  perResident: Record<Locale, number>;
  /** SMS segments of the whole run if every SMS recipient answers every question: invitation, each question, thanks. */
  estimatedSegments: number;
  messages: Record<Locale, SurveyMessage[]>;
  tooLong: Array<SurveyMessage & { locale: Locale }>;
}

/** Counts the audience today and prices a run of the survey for it. WhatsApp costs no SMS segments. */
export async function estimateSurvey(db: Db, i18next: i18n, municipalityId: string, survey: Definition & { audience: Audience }): Promise<SurveyEstimate> {
  const recipients = await surveyAudience(db, municipalityId, survey.audience);
  const byLocale: SurveyEstimate["recipients"]["byLocale"] = { ar: { sms: 0, whatsapp: 0 }, en: { sms: 0, whatsapp: 0 } };
  for (const r of recipients) byLocale[r.locale][r.channel]++;
  const messages = { ar: surveyMessages(i18next, survey, "ar"), en: surveyMessages(i18next, survey, "en") };
  const perResident = { ar: segmentsPerResident(messages.ar), en: segmentsPerResident(messages.en) };
  return {
    recipients: {
      total: recipients.length,
      sms: byLocale.ar.sms + byLocale.en.sms,
      whatsapp: byLocale.ar.whatsapp + byLocale.en.whatsapp,
      byLocale,
    },
    perResident,
    estimatedSegments: byLocale.ar.sms * perResident.ar + byLocale.en.sms * perResident.en,
    messages,
    tooLong: [...messages.ar, ...messages.en].length ? surveyTooLong(i18next, survey) : [],
  };
}
