import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import { drainOutbox, type DrainOutboxDeps } from "./drainOutbox.js";
import { importDropFolder, type ImportDropFolderDeps } from "./importDropFolder.js";
import { sendReminders, type SendRemindersDeps } from "./sendReminders.js";

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
  accountsImport: { cron: string; job: ImportDropFolderDeps } | null;
  logger: Logger;
}) {
  const tasks: ScheduledTask[] = [];
  if (deps.outbox) {
    const outbox = deps.outbox;
    tasks.push(
      cron.schedule(
        "*/3 * * * * *",
        async () => {
          try {
            await drainOutbox(outbox, new Date());
          } catch (error) {
            deps.logger.error({ err: error }, "outbox run failed");
          }
        },
        { name: "drain-outbox", noOverlap: true, timezone: "Asia/Beirut" },
      ),
    );
  }
  if (deps.reminders) {
    const reminders = deps.reminders;
    // Every 15 minutes: 50 reminders a run is ~2,600 a day, paced through the outbox; the job itself
    // keeps quiet between 21:00 and 08:00 Beirut time.
    tasks.push(
      cron.schedule(
        "*/15 * * * *",
        async () => {
          try {
            await sendReminders(reminders, new Date());
          } catch (error) {
            deps.logger.error({ err: error }, "reminder run failed");
          }
        },
        { name: "send-reminders", noOverlap: true, timezone: "Asia/Beirut" },
      ),
    );
  }
  if (deps.accountsImport) {
    const { cron: expression, job } = deps.accountsImport;
    tasks.push(
      cron.schedule(
        expression,
        async () => {
          try {
            await importDropFolder(job, new Date());
          } catch (error) {
            deps.logger.error({ err: error }, "accounts import failed");
          }
        },
        { name: "import-accounts", noOverlap: true, timezone: "Asia/Beirut" },
      ),
    );
  }
  return { stop: () => Promise.all(tasks.map((t) => t.stop())) };
}
