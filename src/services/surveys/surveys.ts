import type { i18n } from "i18next";
import type { Db } from "../../db/createDb.js";
import { estimateSurvey, type SurveyEstimate } from "./cost.js";
import { surveyColumns, surveyRecord, type SurveyInput, type SurveyRecord, type SurveyStatus } from "./definition.js";
import { firstRunAt, recurrenceProblem } from "./recurrence.js";

/**
 * A survey's life: a draft is written and edited; scheduled once staff confirmed what a run costs;
 * paused and resumed (no invitations go out while paused; answers to those already sent still
 * count); cancelled for good. Runs are created and closed by the survey job (jobs/runSurveys.ts).
 */

/** Why a survey action was refused; the pages and the API map each to a message. */
export type SurveyRefusal =
  | "not_found"
  /** Only a draft can be edited or scheduled. */
  | "not_draft"
  | "not_scheduled"
  | "not_paused"
  | "already_cancelled"
  /** A message would cost more than two SMS segments in one language. */
  | "too_long"
  /** The confirmed cost is not the current estimate (the audience or the survey changed): confirm again. */
  | "estimate_changed"
  /** The cron expression cannot be read. */
  | "bad_recurrence"
  /** The start is in the past. */
  | "start_in_past";

export type SurveyResult<T = object> = ({ ok: true } & T) | { ok: false; refusal: SurveyRefusal };

const refuse = (refusal: SurveyRefusal) => ({ ok: false, refusal }) as const;

export async function getSurvey(db: Db, municipalityId: string, id: number): Promise<SurveyRecord | null> {
  const row = await db.survey.findFirst({ where: { id, municipalityId } });
  return row ? surveyRecord(row) : null;
}

/** Every survey of the town, newest first, with how many runs each has had. */
export async function listSurveys(db: Db, municipalityId: string): Promise<Array<SurveyRecord & { runs: number; lastRunAt: Date | null }>> {
  const rows = await db.survey.findMany({
    where: { municipalityId },
    orderBy: { id: "desc" },
    include: { runs: { select: { scheduledFor: true }, orderBy: { scheduledFor: "desc" } } },
  });
  return rows.map(({ runs, ...row }) => ({ ...surveyRecord(row), runs: runs.length, lastRunAt: runs[0]?.scheduledFor ?? null }));
}

/** Saves a new draft. A bad cron expression is refused now rather than at scheduling. */
export async function createSurvey(db: Db, municipalityId: string, input: SurveyInput, createdById: number | null, now: Date): Promise<SurveyResult<{ survey: SurveyRecord }>> {
  if (recurrenceProblem(input.schedule.recurrence)) return refuse("bad_recurrence");
  const row = await db.survey.create({ data: { municipalityId, ...surveyColumns(input), status: "draft", createdById, createdAt: now, updatedAt: now } });
  return { ok: true, survey: surveyRecord(row) };
}

/** Rewrites a draft. A scheduled survey must be cancelled (or paused runs finished) before it changes. */
export async function updateSurvey(db: Db, municipalityId: string, id: number, input: SurveyInput, now: Date): Promise<SurveyResult<{ survey: SurveyRecord }>> {
  if (recurrenceProblem(input.schedule.recurrence)) return refuse("bad_recurrence");
  const { count } = await db.survey.updateMany({ where: { id, municipalityId, status: "draft" }, data: { ...surveyColumns(input), updatedAt: now } });
  if (count === 0) return refuse((await db.survey.findFirst({ where: { id, municipalityId } })) ? "not_draft" : "not_found");
  return { ok: true, survey: (await getSurvey(db, municipalityId, id))! };
}

/**
 * Schedules a draft: staff saw the estimate and confirm its segment count. Refused when any message
 * is over budget or the estimate moved since they saw it. The first run starts at the survey's
 * start (now if none) or, for a monthly or cron survey without a start, at its first occurrence.
 */
export async function scheduleSurvey(
  db: Db,
  i18next: i18n,
  municipalityId: string,
  id: number,
  confirmedSegments: number,
  now: Date,
  /** The draft's `updatedAt` as staff saw it: an edit since (even one costing the same) is confirmed again. */
  seenVersion?: Date,
): Promise<SurveyResult<{ survey: SurveyRecord; estimate: SurveyEstimate }>> {
  const survey = await getSurvey(db, municipalityId, id);
  if (!survey) return refuse("not_found");
  if (survey.status !== "draft") return refuse("not_draft");
  if (seenVersion && seenVersion.getTime() !== survey.updatedAt.getTime()) return refuse("estimate_changed");
  if (recurrenceProblem(survey.recurrence)) return refuse("bad_recurrence");
  if (survey.startAt && survey.startAt.getTime() < now.getTime() - 60_000) return refuse("start_in_past");
  const estimate = await estimateSurvey(db, i18next, municipalityId, survey);
  if (estimate.tooLong.length > 0) return refuse("too_long");
  if (estimate.estimatedSegments !== confirmedSegments) return refuse("estimate_changed");
  const nextRunAt = firstRunAt(survey.recurrence, survey.startAt, now);
  const { count } = await db.survey.updateMany({
    // Still the draft that was priced: an edit that landed meanwhile makes this match nothing.
    where: { id, municipalityId, status: "draft", updatedAt: survey.updatedAt },
    data: { status: "scheduled", confirmedSegments, nextRunAt, updatedAt: now },
  });
  if (count === 0) {
    const current = await getSurvey(db, municipalityId, id);
    return refuse(current?.status === "draft" ? "estimate_changed" : "not_draft");
  }
  return { ok: true, survey: (await getSurvey(db, municipalityId, id))!, estimate };
}

/** Moves a survey from one status to another if it is in `from`. */
async function transition(db: Db, municipalityId: string, id: number, from: SurveyStatus[], to: SurveyStatus, refusal: SurveyRefusal, now: Date, extra: object = {}): Promise<SurveyResult<{ survey: SurveyRecord }>> {
  const { count } = await db.survey.updateMany({ where: { id, municipalityId, status: { in: from } }, data: { status: to, updatedAt: now, ...extra } });
  const survey = await getSurvey(db, municipalityId, id);
  if (!survey) return refuse("not_found");
  if (count === 0) return refuse(survey.status === "cancelled" ? "already_cancelled" : survey.status === "finished" ? "not_scheduled" : refusal);
  return { ok: true, survey };
}

/** No more invitations until resumed (open runs keep taking answers from those already invited). */
export const pauseSurvey = (db: Db, municipalityId: string, id: number, now: Date) => transition(db, municipalityId, id, ["scheduled"], "paused", "not_scheduled", now);

/** Invitations go out again where they stopped. */
export const resumeSurvey = (db: Db, municipalityId: string, id: number, now: Date) => transition(db, municipalityId, id, ["paused"], "scheduled", "not_paused", now);

/**
 * Cancelled for good: no new run, and invitations not yet sent are never sent (the job skips a
 * cancelled survey's runs). Answers already given are kept and shown.
 */
export async function cancelSurvey(db: Db, municipalityId: string, id: number, now: Date): Promise<SurveyResult<{ survey: SurveyRecord }>> {
  return db.$transaction(async (tx) => {
    const result = await transition(tx as unknown as Db, municipalityId, id, ["draft", "scheduled", "paused"], "cancelled", "already_cancelled", now, { nextRunAt: null });
    if (result.ok) {
      await tx.surveyInvitation.updateMany({ where: { status: "pending", run: { surveyId: id } }, data: { status: "skipped", reason: "cancelled", updatedAt: now } });
    }
    return result;
  });
}
