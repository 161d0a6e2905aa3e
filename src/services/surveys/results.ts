import type { Localized, SurveyQuestion, SurveyQuestionType } from "../../conversation/types.js";
import type { Db } from "../../db/createDb.js";
import { parseStoredQuestions } from "../../db/hot/surveys.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { surveyRecord, type SurveyRecord } from "./definition.js";

/**
 * The results of a survey, run by run: who was invited and answered, each question's counts, the
 * mean of ratings and numbers, breakdowns by area, language and channel, and the change since the
 * previous run. Answers are stored per resident; everything here is aggregated, except the free
 * answers, which are only read when the caller may see individual responses.
 *
 * A town has at most tens of thousands of invitations per run: each run's invitations and answers
 * are read in two queries and counted in memory.
 */

export const YES_NO_VALUES = ["yes", "no"] as const;
const YES_NO_LABELS: Record<string, Localized> = { yes: { ar: "نعم", en: "Yes" }, no: { ar: "لا", en: "No" } };
/** What a breakdown groups invitations by. */
export const BREAKDOWNS = ["area", "language", "channel"] as const;
export type BreakdownKind = (typeof BREAKDOWNS)[number];

/** One bar of a chart: an option, yes or no, or one point of a rating scale. */
export interface OptionCount {
  /** As stored: the option number, "yes"/"no", the rating. */
  value: string;
  label: Localized;
  count: number;
  /** count / answered (0 when nobody answered). */
  share: number;
}

export interface NumberStats {
  count: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  median: number | null;
}

/** A free answer, with who gave it masked. */
export interface FreeAnswer {
  invitationId: number;
  value: string;
  phoneMasked: string;
  area: string | null;
}

export interface QuestionResult {
  index: number;
  type: SurveyQuestionType;
  text: Localized;
  /** Answers with a value. */
  answered: number;
  /** Questions skipped (the resident said "skip", or an unusable answer twice). */
  skipped: number;
  /** choice: each option; yesno: yes, no; rating: every point of the scale. Empty for number and text. */
  counts: OptionCount[];
  /** rating and number: the mean of the answers; null otherwise or without answers. */
  mean: number | null;
  /** number: count, mean, min, max, median. */
  stats: NumberStats | null;
  /** text: the free answers, newest first; null when the caller may not see individual responses. */
  answers: FreeAnswer[] | null;
}

/** One group of a breakdown (an area, a language, a channel). */
export interface GroupResult {
  /** The area name, "ar"/"en", "sms"/"whatsapp"; null: no area known. */
  key: string | null;
  invited: number;
  completed: number;
  responseRate: number | null;
  /** Per question: the mean (rating, number) and the counts per option (choice, yesno, rating), in the question's order. */
  questions: Array<{ index: number; answered: number; mean: number | null; counts: number[] | null }>;
}

export interface QuestionChange {
  index: number;
  type: SurveyQuestionType;
  /** rating, number: current mean minus previous mean. */
  meanChange: number | null;
  previousMean: number | null;
  /** choice, yesno, rating: the change of each option's share (in points of 0..1). */
  shares: Array<{ value: string; label: Localized; current: number; previous: number; change: number }>;
}

export interface RunComparison {
  previousRunId: number;
  previousNumber: number;
  responseRateChange: number | null;
  /** Only questions asked the same way in both runs (same position and type, same options). */
  questions: QuestionChange[];
}

export interface RunResult {
  id: number;
  number: number;
  scheduledFor: Date;
  closesAt: Date;
  status: string;
  /** Invitations that went out (the template ones too). */
  invited: number;
  notReachable: number;
  skipped: number;
  expired: number;
  pending: number;
  started: number;
  completed: number;
  /** completed / invited; null when nobody was invited yet. */
  responseRate: number | null;
  questions: QuestionResult[];
  /** The run's questions as they were asked. */
  definition: SurveyQuestion[];
  breakdown: Record<BreakdownKind, GroupResult[]>;
  /** Against the run before it; null for a first run. */
  comparison: RunComparison | null;
}

export interface SurveyResults {
  survey: SurveyRecord;
  /** Newest first. */
  runs: RunResult[];
  /** The newest run against the one before it (the same as runs[0].comparison). */
  comparison: RunComparison | null;
}

export interface ResultsOptions {
  /** Include free answers with masked phones (staff with the surveys permission). */
  responses?: boolean;
}

interface InvitationRow {
  id: number;
  residentId: number;
  channel: string;
  locale: string;
  area: string | null;
  status: string;
  startedAt: Date | null;
  completedAt: Date | null;
}
interface AnswerRow {
  invitationId: number;
  questionIndex: number;
  value: string | null;
  createdAt: Date;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const mean = (values: number[]) => (values.length === 0 ? null : round(values.reduce((a, b) => a + b, 0) / values.length));

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** The values a chart shows bars for, with their labels; empty for number and text questions. */
export function questionScale(question: SurveyQuestion): Array<{ value: string; label: Localized }> {
  switch (question.type) {
    case "choice":
      return question.options.map((o, i) => ({ value: String(i + 1), label: { ar: o.ar, en: o.en } }));
    case "yesno":
      return YES_NO_VALUES.map((v) => ({ value: v, label: YES_NO_LABELS[v]! }));
    case "rating": {
      const min = question.min ?? 1;
      const max = question.max ?? 5;
      return Array.from({ length: max - min + 1 }, (_, i) => ({ value: String(min + i), label: { ar: String(min + i), en: String(min + i) } }));
    }
    default:
      return [];
  }
}

const numeric = (value: string) => {
  const n = Number(value);
  return value.trim() !== "" && Number.isFinite(n) ? n : null;
};

function countsOf(question: SurveyQuestion, values: string[]): number[] | null {
  const scale = questionScale(question);
  if (scale.length === 0) return null;
  return scale.map((s) => values.filter((v) => v === s.value).length);
}

function meanOf(question: SurveyQuestion, values: string[]): number | null {
  if (question.type !== "rating" && question.type !== "number") return null;
  return mean(values.map(numeric).filter((n): n is number => n !== null));
}

function questionResult(question: SurveyQuestion, index: number, answers: AnswerRow[], free: FreeAnswer[] | null): QuestionResult {
  const values = answers.filter((a) => a.value !== null).map((a) => a.value!);
  const skipped = answers.length - values.length;
  const answered = values.length;
  const counts = countsOf(question, values);
  const numbers = question.type === "number" ? values.map(numeric).filter((n): n is number => n !== null) : [];
  return {
    index,
    type: question.type,
    text: { ar: question.text.ar, en: question.text.en },
    answered,
    skipped,
    counts: counts ? questionScale(question).map((s, i) => ({ ...s, count: counts[i]!, share: answered === 0 ? 0 : counts[i]! / answered })) : [],
    mean: meanOf(question, values),
    stats:
      question.type === "number"
        ? { count: numbers.length, mean: mean(numbers), min: numbers.length ? numbers.reduce((a, b) => Math.min(a, b)) : null, max: numbers.length ? numbers.reduce((a, b) => Math.max(a, b)) : null, median: median(numbers) }
        : null,
    answers: question.type === "text" ? free : null,
  };
}

const invited = (i: InvitationRow) => i.status === "sent";
const rate = (completed: number, of: number) => (of === 0 ? null : completed / of);

function groupKey(kind: BreakdownKind, i: InvitationRow): string | null {
  if (kind === "area") return i.area?.trim() || null;
  return kind === "language" ? i.locale : i.channel;
}

function breakdown(kind: BreakdownKind, questions: SurveyQuestion[], invitations: InvitationRow[], answersOf: Map<number, AnswerRow[]>): GroupResult[] {
  const groups = new Map<string | null, InvitationRow[]>();
  for (const i of invitations) {
    if (!invited(i)) continue;
    const key = groupKey(kind, i);
    const list = groups.get(key) ?? [];
    list.push(i);
    groups.set(key, list);
  }
  const results = [...groups].map(([key, members]): GroupResult => {
    const completed = members.filter((m) => m.completedAt !== null).length;
    const answers = members.flatMap((m) => answersOf.get(m.id) ?? []);
    return {
      key,
      invited: members.length,
      completed,
      responseRate: rate(completed, members.length),
      questions: questions.map((q, index) => {
        const values = answers.filter((a) => a.questionIndex === index && a.value !== null).map((a) => a.value!);
        return { index, answered: values.length, mean: meanOf(q, values), counts: countsOf(q, values) };
      }),
    };
  });
  // Biggest groups first; "no area" last; then by name, so the order is stable.
  return results.sort((a, b) => (a.key === null ? 1 : 0) - (b.key === null ? 1 : 0) || b.invited - a.invited || String(a.key).localeCompare(String(b.key)));
}

/** Two runs asked this question the same way: the same type and, for choices, the same options. */
function sameQuestion(a: SurveyQuestion | undefined, b: SurveyQuestion | undefined): boolean {
  if (!a || !b || a.type !== b.type) return false;
  if (a.type === "rating") return a.min === b.min && a.max === b.max;
  if (a.type === "choice") return a.options.length === b.options.length && a.options.every((o, i) => o.en === b.options[i]!.en);
  return true;
}

/** How a run changed since the previous one. */
export function compareRuns(current: RunResult, previous: RunResult): RunComparison {
  const questions: QuestionChange[] = [];
  for (const q of current.questions) {
    const p = previous.questions[q.index];
    if (!p || !sameQuestion(current.definition[q.index], previous.definition[q.index])) continue;
    if (q.type === "text") continue;
    questions.push({
      index: q.index,
      type: q.type,
      meanChange: q.mean !== null && p.mean !== null ? round(q.mean - p.mean) : null,
      previousMean: p.mean,
      shares: q.counts.map((c, i) => {
        const before = p.counts[i]?.share ?? 0;
        return { value: c.value, label: c.label, current: c.share, previous: before, change: c.share - before };
      }),
    });
  }
  return {
    previousRunId: previous.id,
    previousNumber: previous.number,
    responseRateChange: current.responseRate !== null && previous.responseRate !== null ? current.responseRate - previous.responseRate : null,
    questions,
  };
}

async function runResult(
  db: Db,
  run: { id: number; number: number; scheduledFor: Date; closesAt: Date; status: string; questions: string },
  options: ResultsOptions,
): Promise<RunResult> {
  const definition = parseStoredQuestions(run.questions);
  const [invitations, answers] = await Promise.all([
    db.surveyInvitation.findMany({
      where: { runId: run.id },
      select: { id: true, residentId: true, channel: true, locale: true, area: true, status: true, startedAt: true, completedAt: true },
    }),
    db.surveyAnswer.findMany({
      where: { invitation: { runId: run.id } },
      select: { invitationId: true, questionIndex: true, value: true, createdAt: true },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
  ]);
  const byId = new Map(invitations.map((i) => [i.id, i]));
  const answersOf = new Map<number, AnswerRow[]>();
  for (const a of answers) {
    const list = answersOf.get(a.invitationId) ?? [];
    list.push(a);
    answersOf.set(a.invitationId, list);
  }

  // Free answers name who gave them (masked): read the phones only when they will be shown.
  let phones = new Map<number, string>();
  if (options.responses && definition.some((q) => q.type === "text")) {
    const textIndexes = new Set(definition.flatMap((q, i) => (q.type === "text" ? [i] : [])));
    const residentIds = [...new Set(answers.filter((a) => textIndexes.has(a.questionIndex) && a.value !== null).map((a) => byId.get(a.invitationId)?.residentId))].filter((id): id is number => id !== undefined);
    const residents = residentIds.length ? await db.resident.findMany({ where: { id: { in: residentIds } }, select: { id: true, phone: true } }) : [];
    phones = new Map(residents.map((r) => [r.id, r.phone]));
  }

  const questions = definition.map((q, index) => {
    const rows = answers.filter((a) => a.questionIndex === index);
    const free =
      q.type === "text" && options.responses
        ? rows
            .filter((a) => a.value !== null && a.value.trim() !== "")
            .map((a) => {
              const invitation = byId.get(a.invitationId);
              return { invitationId: a.invitationId, value: a.value!, phoneMasked: maskPhone(invitation ? phones.get(invitation.residentId) : null), area: invitation?.area ?? null };
            })
        : null;
    return questionResult(q, index, rows, free);
  });

  const sent = invitations.filter(invited);
  const completed = sent.filter((i) => i.completedAt !== null).length;
  const count = (status: string) => invitations.filter((i) => i.status === status).length;
  return {
    id: run.id,
    number: run.number,
    scheduledFor: run.scheduledFor,
    closesAt: run.closesAt,
    status: run.status,
    invited: sent.length,
    notReachable: count("unreachable"),
    skipped: count("skipped"),
    expired: count("expired"),
    pending: count("pending"),
    started: sent.filter((i) => i.startedAt !== null).length,
    completed,
    responseRate: rate(completed, sent.length),
    questions,
    definition,
    breakdown: {
      area: breakdown("area", definition, invitations, answersOf),
      language: breakdown("language", definition, invitations, answersOf),
      channel: breakdown("channel", definition, invitations, answersOf),
    },
    comparison: null,
  };
}

/**
 * A survey's results, every run newest first; null when the municipality has no such survey.
 * `runId` limits the work to that run and the one before it (for the comparison).
 */
export async function surveyResults(db: Db, municipalityId: string, surveyId: number, options: ResultsOptions & { runId?: number; latest?: number } = {}): Promise<SurveyResults | null> {
  const row = await db.survey.findFirst({ where: { id: surveyId, municipalityId } });
  if (!row) return null;
  const survey = surveyRecord(row);
  const all = await db.surveyRun.findMany({
    where: { surveyId, municipalityId },
    orderBy: [{ number: "desc" }, { id: "desc" }],
    select: { id: true, number: true, scheduledFor: true, closesAt: true, status: true, questions: true },
  });
  let selected = all;
  if (options.runId !== undefined) {
    const at = all.findIndex((r) => r.id === options.runId);
    selected = at < 0 ? [] : all.slice(at, at + 2);
  } else if (options.latest !== undefined) {
    // The newest `latest` runs, and the one before them for the last one's comparison.
    selected = all.slice(0, options.latest + 1);
  }
  const runs: RunResult[] = [];
  for (const run of selected) runs.push(await runResult(db, run, options));
  for (let i = 0; i < runs.length - 1; i++) runs[i]!.comparison = compareRuns(runs[i]!, runs[i + 1]!);
  if (options.runId !== undefined && runs.length > 1) runs.pop();
  if (options.latest !== undefined && runs.length > options.latest) runs.pop();
  return { survey, runs, comparison: runs[0]?.comparison ?? null };
}

/** The runs of a survey (for a run selector), newest first. */
export async function surveyRunList(db: Db, municipalityId: string, surveyId: number) {
  return db.surveyRun.findMany({
    where: { surveyId, municipalityId },
    orderBy: [{ number: "desc" }, { id: "desc" }],
    select: { id: true, number: true, scheduledFor: true, status: true },
  });
}
