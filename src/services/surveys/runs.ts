import type { Db } from "../../db/createDb.js";
import { isUniqueViolation } from "../../db/errors.js";
import { surveyAudience } from "./audience.js";
import { surveyRecord, type Recurrence } from "./definition.js";
import { nextRunAfter } from "./recurrence.js";

/**
 * A survey's runs: started when their time has come (with one pending invitation per resident of
 * the audience), closed after their expiry. Called by the survey job (jobs/runSurveys.ts) under
 * its lease; every write is a compare-and-set or guarded by a unique key all the same, so a second
 * instance whose lease ran out changes nothing.
 */

const HOUR_MS = 3600_000;
/** How many missed occurrences are walked to find the latest (a cron every minute, a week down). */
const MAX_CATCH_UP = 20_000;

/** A run that was started. */
export interface StartedRun {
  surveyId: number;
  runId: number;
  number: number;
  scheduledFor: Date;
  invitations: number;
  nextRunAt: Date | null;
}

/**
 * The occurrence to run now and the one after it. When the service was down across several
 * occurrences, only the latest one that has come runs (no burst of runs for months gone by).
 */
export function dueOccurrence(recurrence: Recurrence, nextRunAt: Date, now: Date): { scheduledFor: Date; nextRunAt: Date | null } {
  let scheduledFor = nextRunAt;
  let next = nextRunAfter(recurrence, scheduledFor);
  for (let i = 0; next && next.getTime() <= now.getTime() && i < MAX_CATCH_UP; i++) {
    scheduledFor = next;
    next = nextRunAfter(recurrence, scheduledFor);
  }
  return { scheduledFor, nextRunAt: next };
}

/**
 * Starts every run that is due: for each scheduled survey whose `nextRunAt` has come, a run (its
 * questions as they are now, closing `expiryHours` later) and its invitations, and the survey's
 * next occurrence — in one transaction. A second instance trying the same occurrence fails on the
 * run's unique (survey, scheduledFor) and writes nothing.
 */
export async function startDueRuns(db: Db, municipalityId: string, now: Date): Promise<StartedRun[]> {
  const due = await db.survey.findMany({
    where: { municipalityId, status: "scheduled", nextRunAt: { lte: now } },
    orderBy: [{ nextRunAt: "asc" }, { id: "asc" }],
  });
  const started: StartedRun[] = [];
  for (const row of due) {
    const survey = surveyRecord(row);
    const planned = row.nextRunAt!;
    const { scheduledFor, nextRunAt } = dueOccurrence(survey.recurrence, planned, now);
    try {
      const run = await db.$transaction(async (tx) => {
        // The survey still is as read (not paused, cancelled or started by someone else meanwhile).
        const moved = await tx.survey.updateMany({
          where: { id: survey.id, status: "scheduled", nextRunAt: planned },
          data: { nextRunAt, updatedAt: now },
        });
        if (moved.count === 0) return null;
        const number = (await tx.surveyRun.count({ where: { surveyId: survey.id } })) + 1;
        const created = await tx.surveyRun.create({
          data: {
            municipalityId,
            surveyId: survey.id,
            number,
            scheduledFor,
            status: "open",
            questions: JSON.stringify(survey.questions),
            closesAt: new Date(scheduledFor.getTime() + survey.expiryHours * HOUR_MS),
            createdAt: now,
            updatedAt: now,
          },
        });
        const recipients = await surveyAudience(tx, municipalityId, survey.audience);
        if (recipients.length > 0) {
          await tx.surveyInvitation.createMany({
            data: recipients.map((r) => ({
              municipalityId,
              runId: created.id,
              residentId: r.residentId,
              channel: r.channel,
              locale: r.locale,
              area: r.area,
              status: "pending",
              createdAt: now,
              updatedAt: now,
            })),
          });
        }
        return { surveyId: survey.id, runId: created.id, number, scheduledFor, invitations: recipients.length, nextRunAt };
      });
      if (run) started.push(run);
    } catch (error) {
      // Another instance created this occurrence's run first: nothing of ours was written.
      if (!isUniqueViolation(error)) throw error;
    }
  }
  return started;
}

/** A run that was closed, and how many of its invitations never went out. */
export interface ClosedRun {
  surveyId: number;
  runId: number;
  expired: number;
}

/**
 * Closes every open run whose expiry has passed: invitations still pending (quiet hours, a
 * resident busy with a request until the end) expire. A survey with no next occurrence whose runs
 * are all closed is finished.
 */
export async function closeDueRuns(db: Db, municipalityId: string, now: Date): Promise<ClosedRun[]> {
  const due = await db.surveyRun.findMany({
    where: { municipalityId, status: "open", closesAt: { lte: now } },
    select: { id: true, surveyId: true },
    orderBy: { id: "asc" },
  });
  const closed: ClosedRun[] = [];
  for (const run of due) {
    const result = await db.$transaction(async (tx) => {
      const { count } = await tx.surveyRun.updateMany({ where: { id: run.id, status: "open" }, data: { status: "closed", closedAt: now, updatedAt: now } });
      if (count === 0) return null;
      const expired = await tx.surveyInvitation.updateMany({ where: { runId: run.id, status: "pending" }, data: { status: "expired", updatedAt: now } });
      return { surveyId: run.surveyId, runId: run.id, expired: expired.count };
    });
    if (result) closed.push(result);
  }
  await finishSurveys(db, municipalityId, now);
  return closed;
}

/**
 * A survey that will not run again (a once survey after its run; a cron time that never comes
 * back) and has no open run is finished. A cancelled survey stays cancelled.
 */
async function finishSurveys(db: Db, municipalityId: string, now: Date): Promise<number> {
  const { count } = await db.survey.updateMany({
    where: {
      municipalityId,
      status: { in: ["scheduled", "paused"] },
      nextRunAt: null,
      runs: { some: {}, none: { status: "open" } },
    },
    data: { status: "finished", updatedAt: now },
  });
  return count;
}
