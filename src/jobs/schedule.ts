import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { drainOutbox, type DrainOutboxDeps } from "./drainOutbox.js";
import { importDropFolder, type ImportDropFolderDeps } from "./importDropFolder.js";
import { runSurveys, type RunSurveysDeps } from "./runSurveys.js";
import { sendReminders, type SendRemindersDeps } from "./sendReminders.js";

/** The scheduled jobs of one process, and how to stop them. */
export interface ScheduledJobs {
  /**
   * No new runs from now on; the outbox worker claims no more rows (its sends in flight finish
   * and are recorded). Resolves when every run in progress has finished: the caller bounds the wait.
   */
  stop(): Promise<void>;
  /** Names of the jobs running right now (for the shutdown log). */
  running(): string[];
}

/**
 * Registers the periodic jobs. Each job is a plain `async (deps, now)` function; this file only
 * decides when they run. `noOverlap` keeps a slow run from piling up; the outbox itself is safe
 * with several instances because every change to a row is a compare-and-set on its claim token,
 * and it sends several rows at once (OUTBOX_CONCURRENCY), so one slow provider call does not hold
 * the queue.
 */
export function scheduleJobs(deps: {
  outbox: DrainOutboxDeps | null;
  reminders: SendRemindersDeps | null;
  /** The survey job (absent: not scheduled). */
  surveys?: RunSurveysDeps | null;
  accountsImport: { cron: string; job: ImportDropFolderDeps } | null;
  logger: Logger;
}): ScheduledJobs {
  const tasks: ScheduledTask[] = [];
  const stopping = new AbortController();
  const runs = new Map<Promise<void>, string>();
  /** One job on a cron expression: a failed run is logged, a run in progress is tracked for `stop`. */
  const every = (expression: string, name: string, failed: string, job: () => Promise<unknown>) => {
    const runOnce = async () => {
      if (stopping.signal.aborted) return;
      const run = job().then(
        () => undefined,
        (error: unknown) => deps.logger.error({ err: error }, failed),
      );
      runs.set(run, name);
      await run;
      runs.delete(run);
    };
    tasks.push(cron.schedule(expression, runOnce, { name, noOverlap: true, timezone: "Asia/Beirut" }));
  };

  if (deps.outbox) {
    const outbox: DrainOutboxDeps = { ...deps.outbox, signal: stopping.signal };
    every("*/3 * * * * *", "drain-outbox", "outbox run failed", () => drainOutbox(outbox, new Date()));
  }
  if (deps.reminders) {
    const reminders = deps.reminders;
    // Every 15 minutes: 50 reminders a run is ~2,600 a day, paced through the outbox; the job itself
    // keeps quiet between 21:00 and 08:00 Beirut time.
    every("*/15 * * * *", "send-reminders", "reminder run failed", () => sendReminders(reminders, new Date()));
  }
  if (deps.surveys) {
    const surveys = deps.surveys;
    // Every minute: runs start on the minute they are due, and invitations go out at the configured
    // pace; the job itself sends nothing between 21:00 and 08:00 Beirut time.
    every("* * * * *", "run-surveys", "survey run failed", () => runSurveys(surveys, new Date()));
  }
  if (deps.accountsImport) {
    const { cron: expression, job } = deps.accountsImport;
    every(expression, "import-accounts", "accounts import failed", () => importDropFolder(job, new Date()));
  }
  return {
    stop: async () => {
      stopping.abort();
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.allSettled(runs.keys());
    },
    running: () => [...runs.values()],
  };
}
