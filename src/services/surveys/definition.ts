import { z } from "zod";
import { CHANNELS, LOCALES, LocalizedSchema, StaffText, StoredSurveyQuestionSchema, SurveyQuestionSchema, type Localized, type SurveyQuestion } from "../../conversation/types.js";

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
  areas: z.array(StaffText(100)).max(50).default([]),
}).strict();
export type Audience = z.infer<typeof AudienceSchema>;

const TitleSchema = z.union([StaffText(120).transform((t) => ({ ar: t, en: t })), LocalizedSchema]);

const INPUT_KEYS = new Set(["title", "intro", "questions", "audience", "schedule", "expiryHours", "id", "status", "nextRunAt", "confirmedSegments", "createdAt", "updatedAt", "estimate"]);

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
    .strict()
    .default({ startAt: null, recurrence: { kind: "once" } }),
  /** How long each run takes answers. */
  expiryHours: z.number().int().min(1).max(24 * 30).default(DEFAULT_EXPIRY_HOURS),
})
  .loose()
  // A misspelt key ("audiance") is refused, not silently dropped: the survey would go to everyone.
  // The read-only fields of GET /surveys/{id} are let through (and ignored), so a survey read can be
  // posted back as a new draft.
  .superRefine((input, ctx) => {
    for (const key of Object.keys(input)) {
      if (!INPUT_KEYS.has(key)) ctx.addIssue({ code: "custom", path: [key], message: "unknown_field" });
    }
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

// Reading back what was validated when it was written: a stricter rule added later must not make a
// stored survey unreadable (and every list that shows it fail).
const StoredText = z.object({ ar: z.string(), en: z.string() });
const StoredAudience = z.object({
  channels: z.array(z.enum(CHANNELS)).default([]),
  languages: z.array(z.enum(LOCALES)).default([]),
  areas: z.array(z.string()).default([]),
});

/** Reads a stored row; the JSON was validated when it was written. */
export function surveyRecord(row: SurveyRow): SurveyRecord {
  return {
    ...row,
    title: StoredText.parse(JSON.parse(row.title)),
    intro: row.intro ? StoredText.parse(JSON.parse(row.intro)) : null,
    questions: z.array(StoredSurveyQuestionSchema).parse(JSON.parse(row.questions)),
    audience: StoredAudience.parse(JSON.parse(row.audience)),
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
