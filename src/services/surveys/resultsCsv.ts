import type { SurveyQuestion } from "../../conversation/types.js";
import type { Db } from "../../db/createDb.js";
import { parseStoredQuestions } from "../../db/hot/surveys.js";

/**
 * A survey's responses as CSV, one row per response (an invitation that answered at least one
 * question), for a spreadsheet: the run, its date, the channel, language and area of the resident,
 * when they started and finished, and one column per question. Residents are identified by the
 * invitation's id only: no phone numbers leave the town hall this way.
 *
 * RFC 4180 (CRLF, quotes doubled), UTF-8 with a byte order mark so Excel reads Arabic, and cells a
 * spreadsheet would run as a formula (= + - @, tab, CR) prefixed with a single quote.
 */

const BOM = "\uFEFF";
// Leading spaces do not stop a spreadsheet from reading " =cmd()" as a formula.
const FORMULA_START = /^[\s\u00a0]*[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/** One CSV cell: formula-safe, quoted when it must be. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  // A plain number ("-3") is not a formula; anything else starting like one is neutralised.
  if (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvLine = (cells: ReadonlyArray<string | number | null | undefined>) => cells.map(csvCell).join(",");

/** An answer as a spreadsheet shows it: "Weekly (2)" for a choice, yes/no, the number, the text. */
export function answerCell(question: SurveyQuestion | undefined, value: string | null): string {
  if (value === null) return "";
  if (question?.type === "choice") {
    const option = question.options[Number(value) - 1];
    return option ? `${option.en} (${value})` : value;
  }
  return value;
}

const iso = (date: Date | null) => (date ? date.toISOString() : "");

/**
 * The CSV of a survey's responses (every run, oldest first; or one run); null when the survey is
 * not this municipality's. The question columns are named after the newest run's questions.
 */
export async function resultsCsv(db: Db, municipalityId: string, surveyId: number, options: { runId?: number } = {}): Promise<string | null> {
  const survey = await db.survey.findFirst({ where: { id: surveyId, municipalityId }, select: { id: true, questions: true } });
  if (!survey) return null;
  const runs = await db.surveyRun.findMany({
    where: { surveyId, municipalityId, ...(options.runId !== undefined ? { id: options.runId } : {}) },
    orderBy: [{ number: "asc" }, { id: "asc" }],
    select: { id: true, number: true, scheduledFor: true, questions: true },
  });
  const newest = runs.at(-1);
  const headings = newest ? parseStoredQuestions(newest.questions) : parseStoredQuestions(survey.questions);
  const width = Math.max(headings.length, ...runs.map((r) => parseStoredQuestions(r.questions).length));
  const header = [
    "response_id",
    "run",
    "run_date",
    "channel",
    "language",
    "area",
    "started_at",
    "completed_at",
    ...Array.from({ length: width }, (_, i) => `Q${i + 1}${headings[i] ? `: ${headings[i]!.text.en}` : ""}`),
  ];
  const lines = [csvLine(header)];
  for (const run of runs) {
    const questions = parseStoredQuestions(run.questions);
    const invitations = await db.surveyInvitation.findMany({
      where: { runId: run.id, answers: { some: { value: { not: null } } } },
      orderBy: { id: "asc" },
      select: { id: true, channel: true, locale: true, area: true, startedAt: true, completedAt: true, answers: { select: { questionIndex: true, value: true } } },
    });
    for (const i of invitations) {
      const values = new Map(i.answers.map((a) => [a.questionIndex, a.value]));
      lines.push(
        csvLine([
          i.id,
          run.number,
          run.scheduledFor.toISOString().slice(0, 10),
          i.channel,
          i.locale,
          i.area,
          iso(i.startedAt),
          iso(i.completedAt),
          ...Array.from({ length: width }, (_, q) => answerCell(questions[q], values.get(q) ?? null)),
        ]),
      );
    }
  }
  return BOM + lines.join("\r\n") + "\r\n";
}
