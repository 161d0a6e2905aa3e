import { z } from "zod";
import { CHANNELS, LOCALES, LocalizedSchema, SurveyQuestionSchema, type Localized, type SurveyQuestion } from "../../conversation/types.js";

/**
 * A survey as staff (the pages) and programs (the JSON API) define it. One schema for both, so a
 * survey made either way is checked the same. Texts are in Arabic and English; a plain string title
 * is used for both.
 */

export const MAX_QUESTIONS = 10;
export const DEFAULT_EXPIRY_HOURS = 72;

export const RecurrenceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("once") }),
  /** Every month on `day` (1-28, so every month has it) at `time`, Beirut time. */
  z.object({ kind: z.literal("monthly"), day: z.number().int().min(1).max(28), time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/) }),
  /** A five-field cron expression, Beirut time (validated by node-cron in the schedule module). */
  z.object({ kind: z.literal("cron"), expression: z.string().trim().min(9).max(100) }),
]);
export type Recurrence = z.infer<typeof RecurrenceSchema>;

export const AudienceSchema = z.object({
  /** Empty: every channel. A resident's channel is the one they last wrote on (SMS if they never did). */
  channels: z.array(z.enum(CHANNELS)).default([]),
  languages: z.array(z.enum(LOCALES)).default([]),
  /** Neighbourhood names as stored on residents (import, an "area" question). */
  areas: z.array(z.string().trim().min(1).max(100)).max(50).default([]),
});
export type Audience = z.infer<typeof AudienceSchema>;

const TitleSchema = z.union([z.string().trim().min(1).max(120).transform((t) => ({ ar: t, en: t })), LocalizedSchema]);

export const SurveyInputSchema = z.object({
  title: TitleSchema,
  intro: LocalizedSchema.nullish().transform((v) => v ?? null),
  questions: z.array(SurveyQuestionSchema).min(1).max(MAX_QUESTIONS),
  audience: AudienceSchema.default({ channels: [], languages: [], areas: [] }),
  schedule: z
    .object({
      /** An ISO instant; omitted: as soon as it is scheduled. */
      startAt: z.iso.datetime({ offset: true }).nullish().transform((v) => (v ? new Date(v) : null)),
      recurrence: RecurrenceSchema.default({ kind: "once" }),
    })
    .default({ startAt: null, recurrence: { kind: "once" } }),
  /** How long each run takes answers. */
  expiryHours: z.number().int().min(1).max(24 * 30).default(DEFAULT_EXPIRY_HOURS),
});
export type SurveyInput = z.infer<typeof SurveyInputSchema>;
/** What a caller sends (before defaults and the title's string form are applied). */
export type SurveyInputJson = z.input<typeof SurveyInputSchema>;

export const SURVEY_STATUSES = ["draft", "scheduled", "paused", "cancelled", "finished"] as const;
export type SurveyStatus = (typeof SURVEY_STATUSES)[number];

/** A stored survey, parsed. */
export interface SurveyRecord {
  id: number;
  municipalityId: string;
  title: Localized;
  intro: Localized | null;
  questions: SurveyQuestion[];
  audience: Audience;
  status: SurveyStatus;
  startAt: Date | null;
  recurrence: Recurrence;
  nextRunAt: Date | null;
  expiryHours: number;
  confirmedSegments: number | null;
  createdById: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SurveyRow {
  id: number;
  municipalityId: string;
  title: string;
  intro: string | null;
  questions: string;
  audience: string;
  status: string;
  startAt: Date | null;
  recurrence: string;
  nextRunAt: Date | null;
  expiryHours: number;
  confirmedSegments: number | null;
  createdById: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Reads a stored row; the JSON was validated when it was written. */
export function surveyRecord(row: SurveyRow): SurveyRecord {
  return {
    ...row,
    title: LocalizedSchema.parse(JSON.parse(row.title)),
    intro: row.intro ? LocalizedSchema.parse(JSON.parse(row.intro)) : null,
    questions: z.array(SurveyQuestionSchema).parse(JSON.parse(row.questions)),
    audience: AudienceSchema.parse(JSON.parse(row.audience)),
    status: (SURVEY_STATUSES as readonly string[]).includes(row.status) ? (row.status as SurveyStatus) : "draft",
    recurrence: RecurrenceSchema.parse(JSON.parse(row.recurrence)),
  };
}

/** The columns a definition writes. */
export function surveyColumns(input: SurveyInput) {
  return {
    title: JSON.stringify(input.title),
    intro: input.intro ? JSON.stringify(input.intro) : null,
    questions: JSON.stringify(input.questions),
    audience: JSON.stringify(input.audience),
    startAt: input.schedule.startAt,
    recurrence: JSON.stringify(input.schedule.recurrence),
    expiryHours: input.expiryHours,
  };
}

/** A stored survey back in the input's shape (to edit a draft, or to copy a survey). */
export function surveyInputOf(record: SurveyRecord): SurveyInput {
  return {
    title: record.title,
    intro: record.intro,
    questions: record.questions,
    audience: record.audience,
    schedule: { startAt: record.startAt, recurrence: record.recurrence },
    expiryHours: record.expiryHours,
  };
}
