import type { z } from "zod";
import { SURVEY_QUESTION_TYPES } from "../../../conversation/types.js";
import { MAX_QUESTIONS, SurveyInputSchema, DEFAULT_EXPIRY_HOURS, type SurveyInput, type SurveyInputJson, type SurveyRecord } from "../../../services/surveys/definition.js";
import { beirutInstant, beirutTime, recurrenceProblem } from "../../../services/surveys/recurrence.js";
import type { SurveyRefusal } from "../../../services/surveys/surveys.js";

/**
 * The survey form as the browser sends it (url-encoded, flat field names, no JavaScript needed) and
 * back: values to re-render the form, the definition to validate with SurveyInputSchema, and every
 * problem as a `surveys:` locale key with its parameters.
 */

/** Question blocks shown on a new form; "add a question" shows one more, up to MAX_QUESTIONS. */
export const INITIAL_BLOCKS = 3;

export interface QuestionValues {
  type: string;
  ar: string;
  en: string;
  /** One option per line, Arabic and English in the same order. */
  optionsAr: string;
  optionsEn: string;
  /** Rating scale: "5" (1-5) or "10" (0-10). */
  scale: string;
  area: boolean;
}

export interface FormValues {
  titleAr: string;
  titleEn: string;
  introAr: string;
  introEn: string;
  questions: QuestionValues[];
  channels: string[];
  languages: string[];
  /** Areas ticked among the residents' known ones. */
  areas: string[];
  /** More areas, comma-separated. */
  areasText: string;
  start: "now" | "at";
  /** datetime-local, Beirut time: "2025-04-01T09:30". */
  startAt: string;
  recurrence: "once" | "monthly" | "cron";
  day: string;
  time: string;
  cron: string;
  expiryHours: string;
}

/** A problem with the form, as a locale key of the surveys namespace and its parameters. */
export interface FormProblem {
  key: string;
  params?: Record<string, string | number>;
}

const emptyQuestion = (): QuestionValues => ({ type: "choice", ar: "", en: "", optionsAr: "", optionsEn: "", scale: "5", area: false });

export function emptyForm(): FormValues {
  return {
    titleAr: "",
    titleEn: "",
    introAr: "",
    introEn: "",
    questions: Array.from({ length: INITIAL_BLOCKS }, emptyQuestion),
    channels: [],
    languages: [],
    areas: [],
    areasText: "",
    start: "now",
    startAt: "",
    recurrence: "once",
    day: "1",
    time: "10:00",
    cron: "",
    expiryHours: String(DEFAULT_EXPIRY_HOURS),
  };
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const many = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((s): s is string => typeof s === "string" && s !== "");
const ticked = (v: unknown) => v === "on" || v === "true" || v === "1";

/** The values a submitted form carries; `extraBlock` adds an empty question block ("add a question"). */
export function formFromBody(body: Record<string, unknown>, extraBlock = false): FormValues {
  const blocks = Math.min(MAX_QUESTIONS, Math.max(1, Number.parseInt(str(body.blocks), 10) || INITIAL_BLOCKS));
  const questions = Array.from({ length: blocks }, (_, i): QuestionValues => ({
    type: str(body[`q${i}_type`]) || "choice",
    ar: str(body[`q${i}_ar`]),
    en: str(body[`q${i}_en`]),
    optionsAr: str(body[`q${i}_options_ar`]),
    optionsEn: str(body[`q${i}_options_en`]),
    scale: str(body[`q${i}_scale`]) === "10" ? "10" : "5",
    area: ticked(body[`q${i}_area`]),
  }));
  if (extraBlock && questions.length < MAX_QUESTIONS) questions.push(emptyQuestion());
  const recurrence = str(body.recurrence);
  return {
    titleAr: str(body.title_ar),
    titleEn: str(body.title_en),
    introAr: str(body.intro_ar),
    introEn: str(body.intro_en),
    questions,
    channels: many(body.channels),
    languages: many(body.languages),
    areas: many(body.areas),
    areasText: str(body.areas_text),
    start: str(body.start) === "at" ? "at" : "now",
    startAt: str(body.start_at),
    recurrence: recurrence === "monthly" || recurrence === "cron" ? recurrence : "once",
    day: str(body.day),
    time: str(body.time),
    cron: str(body.cron),
    expiryHours: str(body.expiry_hours),
  };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A stored survey as form values (to edit a draft). */
export function formFromRecord(survey: SurveyRecord): FormValues {
  const questions = survey.questions.map(
    (q): QuestionValues => ({
      type: q.type,
      ar: q.text.ar,
      en: q.text.en,
      optionsAr: q.options.map((o) => o.ar).join("\n"),
      optionsEn: q.options.map((o) => o.en).join("\n"),
      scale: q.max === 10 ? "10" : "5",
      area: q.area,
    }),
  );
  if (questions.length < MAX_QUESTIONS) questions.push(emptyQuestion());
  const local = survey.startAt ? beirutTime(survey.startAt) : null;
  const r = survey.recurrence;
  return {
    titleAr: survey.title.ar,
    titleEn: survey.title.en,
    introAr: survey.intro?.ar ?? "",
    introEn: survey.intro?.en ?? "",
    questions,
    channels: [...survey.audience.channels],
    languages: [...survey.audience.languages],
    areas: [...survey.audience.areas],
    areasText: "",
    start: local ? "at" : "now",
    startAt: local ? `${local.year}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}` : "",
    recurrence: r.kind,
    day: r.kind === "monthly" ? String(r.day) : "1",
    time: r.kind === "monthly" ? r.time : "10:00",
    cron: r.kind === "cron" ? r.expression : "",
    expiryHours: String(survey.expiryHours),
  };
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");

const isBlank = (q: QuestionValues) => q.ar.trim() === "" && q.en.trim() === "" && lines(q.optionsAr).length === 0 && lines(q.optionsEn).length === 0;

/** "2025-04-01T09:30" (Beirut) as an instant; null when it is not such a value. */
export function beirutLocalInstant(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2})?$/.exec(value.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  const at = beirutInstant(year, month, day, hour, minute);
  if (Number.isNaN(at.getTime())) return null;
  // "31 February" does not exist: refused, not moved to 3 March.
  const shown = beirutTime(at);
  return shown.year === year && shown.month === month && shown.day === day ? at : null;
}

/**
 * The definition the form describes, checked with SurveyInputSchema. Empty question blocks are
 * ignored; problems name the question block (1-based) they come from.
 */
export function inputFromForm(values: FormValues): { ok: true; input: SurveyInput } | { ok: false; problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  const blocks: number[] = [];
  const questions = values.questions.flatMap((q, i) => {
    if (isBlank(q)) return [];
    blocks.push(i + 1);
    const type = (SURVEY_QUESTION_TYPES as readonly string[]).includes(q.type) ? q.type : "choice";
    let options: Array<{ ar: string; en: string }> = [];
    if (type === "choice") {
      const ar = lines(q.optionsAr);
      const en = lines(q.optionsEn);
      if (ar.length !== en.length) problems.push({ key: "errors.optionsMismatch", params: { n: i + 1, ar: ar.length, en: en.length } });
      options = ar.slice(0, Math.min(ar.length, en.length)).map((a, k) => ({ ar: a, en: en[k]! }));
    }
    return [
      {
        type,
        text: { ar: q.ar, en: q.en },
        options,
        ...(type === "rating" ? (q.scale === "10" ? { min: 0, max: 10 } : { min: 1, max: 5 }) : {}),
        area: q.area,
      },
    ];
  });
  let startAt: string | null = null;
  if (values.start === "at") {
    const at = beirutLocalInstant(values.startAt);
    if (at) startAt = at.toISOString();
    else problems.push({ key: "errors.startAt" });
  }
  const recurrence =
    values.recurrence === "monthly"
      ? { kind: "monthly" as const, day: Number(values.day.trim() || Number.NaN), time: values.time.trim() }
      : values.recurrence === "cron"
        ? { kind: "cron" as const, expression: values.cron.trim() }
        : { kind: "once" as const };
  const areas = [...new Set([...values.areas, ...values.areasText.split(/[,،]/)].map((a) => a.trim()).filter((a) => a !== ""))];
  const introGiven = values.introAr.trim() !== "" || values.introEn.trim() !== "";
  const json = {
    title: { ar: values.titleAr, en: values.titleEn },
    intro: introGiven ? { ar: values.introAr, en: values.introEn } : null,
    questions,
    audience: { channels: values.channels, languages: values.languages, areas },
    schedule: { startAt, recurrence },
    expiryHours: values.expiryHours.trim() === "" ? DEFAULT_EXPIRY_HOURS : Number(values.expiryHours),
  } as SurveyInputJson;
  // The title may be a plain string for the API, so zod reports an empty half only as "no match": say which.
  if (values.titleAr.trim() === "") problems.push({ key: "errors.titleAr" });
  if (values.titleEn.trim() === "") problems.push({ key: "errors.titleEn" });
  const titleChecked = problems.some((p) => p.key.startsWith("errors.title"));
  const parsed = SurveyInputSchema.safeParse(json);
  // Checked here too (the service refuses it as well) so that it is listed with the other problems.
  if (recurrence.kind === "cron" && recurrence.expression.length >= 9 && recurrenceProblem(recurrence)) problems.push({ key: "errors.cron" });
  if (!parsed.success) problems.push(...issueProblems(parsed.error, blocks).filter((p) => !(titleChecked && p.key === "errors.title")));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems: dedupe(problems) };
  return { ok: true, input: parsed.data };
}

function dedupe(problems: FormProblem[]): FormProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.key}|${JSON.stringify(p.params ?? {})}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Zod's issues (English, for programs) as locale keys for staff. */
export function issueProblems(error: z.ZodError, blocks: number[] = []): FormProblem[] {
  return error.issues.map((issue): FormProblem => {
    const [first, second, third, fourth] = issue.path;
    // Whatever the field: say what is wrong with the text itself.
    if (issue.message === "control_characters") return { key: "errors.control" };
    if (issue.message === "invisible") return { key: "errors.invisible" };
    if (issue.message === "scale_only_for_rating" && typeof second === "number") return { key: "errors.scaleOnlyForRating", params: { n: blocks[second] ?? second + 1 } };
    switch (first) {
      case "title":
        return { key: "errors.title" };
      case "intro":
        return { key: second === "en" ? "errors.introEn" : "errors.introAr" };
      case "questions": {
        if (typeof second !== "number") return { key: "errors.noQuestions", params: { max: MAX_QUESTIONS } };
        const n = blocks[second] ?? second + 1;
        if (issue.message === "choice_options") return { key: "errors.choiceOptions", params: { n } };
        if (issue.message === "rating_scale") return { key: "errors.ratingScale", params: { n } };
        if (issue.message === "area_needs_choice") return { key: "errors.areaNeedsChoice", params: { n } };
        if (issue.message === "options_only_for_choice") return { key: "errors.optionsOnlyForChoice", params: { n } };
        if (third === "text") return { key: fourth === "en" ? "errors.questionTextEn" : "errors.questionTextAr", params: { n } };
        if (third === "options") return { key: "errors.optionText", params: { n } };
        return { key: "errors.question", params: { n } };
      }
      case "audience":
        return { key: second === "areas" ? "errors.areas" : "errors.audience" };
      case "schedule": {
        if (second === "startAt") return { key: "errors.startAt" };
        const field = issue.path[2];
        if (field === "day") return { key: "errors.monthlyDay" };
        if (field === "time") return { key: "errors.monthlyTime" };
        if (field === "expression") return { key: "errors.cron" };
        return { key: "errors.recurrence" };
      }
      case "expiryHours":
        return { key: "errors.expiry" };
      default:
        return { key: "errors.invalid" };
    }
  });
}

/** A service refusal as a locale key. */
export const refusalKey = (refusal: SurveyRefusal) => `refusals.${refusal}`;
