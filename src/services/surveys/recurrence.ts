import cron from "node-cron";
import type { Recurrence } from "./definition.js";

/**
 * When a survey's runs happen, on Beirut's clocks (daylight saving included). Runs are created by
 * the survey job when their time has come; this module only computes the times.
 */

const TIME_ZONE = "Asia/Beirut";
const MINUTE = 60_000;
/** How far ahead a cron expression is searched for its next time (a "30 February" never comes). */
const SEARCH_DAYS = 366 * 2;

const partsFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: TIME_ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  weekday: "short",
  hourCycle: "h23",
});

interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 Sunday … 6 Saturday. */
  weekday: number;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** The Beirut wall-clock time of an instant. */
export function beirutTime(at: Date): LocalTime {
  const p = Object.fromEntries(partsFormat.formatToParts(at).map((x) => [x.type, x.value]));
  return { year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour), minute: Number(p.minute), weekday: WEEKDAYS.indexOf(p.weekday!) };
}

/**
 * The instant Beirut's clocks show the given time. At the spring-forward gap (00:00-00:59 does not
 * exist) the hour after is used; at the autumn repeat, the first of the two.
 */
export function beirutInstant(year: number, month: number, day: number, hour: number, minute: number): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  for (const offsetHours of [3, 2]) {
    const candidate = new Date(wall - offsetHours * 3600_000);
    const t = beirutTime(candidate);
    if (t.day === day && t.hour === hour && t.minute === minute) return candidate;
  }
  return new Date(wall - 2 * 3600_000);
}

/** Why a recurrence cannot be used, or null. */
export function recurrenceProblem(recurrence: Recurrence): string | null {
  if (recurrence.kind !== "cron") return null;
  const fields = recurrence.expression.trim().split(/\s+/);
  // Five fields (minute precision): a six-field expression would send every second.
  if (fields.length !== 5) return "cron_fields";
  if (!cron.validate(recurrence.expression)) return "cron_invalid";
  // A survey is a favour residents do the town: at most one run a day (every occurrence invites
  // everyone again, and "* * * * *" would do so every minute).
  const probe = new Date(Date.UTC(2027, 0, 4, 0, 0));
  for (let i = 0, after: Date | null = probe; i < 8 && after; i++) {
    const first = nextCronTime(recurrence.expression, after, false);
    const second = first ? nextCronTime(recurrence.expression, first, false) : null;
    if (first && second && second.getTime() - first.getTime() < MIN_RUN_GAP_MS) return "cron_too_frequent";
    after = first;
  }
  return null;
}

/** Runs of one survey are at least this far apart. */
const MIN_RUN_GAP_MS = 20 * 3600_000;

/**
 * The first run: at `startAt` if given (a once survey; or a recurring one's first run), else now
 * for a once survey, else the recurrence's first time after now.
 */
export function firstRunAt(recurrence: Recurrence, startAt: Date | null, now: Date): Date | null {
  if (startAt) return startAt;
  if (recurrence.kind === "once") return now;
  return nextRunAfter(recurrence, now);
}

/** The recurrence's first time strictly after `after`; null for a once survey (or a cron time that never comes). */
export function nextRunAfter(recurrence: Recurrence, after: Date): Date | null {
  switch (recurrence.kind) {
    case "once":
      return null;
    case "monthly": {
      const [hour, minute] = recurrence.time.split(":").map(Number) as [number, number];
      const local = beirutTime(after);
      for (let i = 0; i < 3; i++) {
        const month0 = local.month - 1 + i;
        const at = beirutInstant(local.year + Math.floor(month0 / 12), (month0 % 12) + 1, recurrence.day, hour, minute);
        if (at.getTime() > after.getTime()) return at;
      }
      return null;
    }
    case "cron":
      return nextCronTime(recurrence.expression, after);
  }
}

/** The next minute after `after` that a five-field cron expression matches on Beirut's clocks. */
function nextCronTime(expression: string, after: Date, checked = true): Date | null {
  if (checked && recurrenceProblem({ kind: "cron", expression })) return null;
  const fields = cron.parse(expression);
  const minutes = fields.minute.slice().sort((a, b) => a - b);
  const hours = fields.hour.slice().sort((a, b) => a - b);
  const domRestricted = !expression.trim().split(/\s+/)[2]!.startsWith("*");
  const dowRestricted = !expression.trim().split(/\s+/)[4]!.startsWith("*");
  const doms = new Set(fields.dayOfMonth.map(Number));
  const dows = new Set(fields.dayOfWeek.map((d) => Number(d) % 7));
  const months = new Set(fields.month.map(Number));
  const start = beirutTime(new Date(after.getTime() + MINUTE));
  for (let d = 0; d <= SEARCH_DAYS; d++) {
    // Walk the calendar in Beirut: noon of the day avoids any daylight-saving edge.
    const noon = beirutInstant(start.year, start.month, start.day, 12, 0).getTime() + d * 86_400_000;
    const day = beirutTime(new Date(noon));
    if (!months.has(day.month)) continue;
    const domOk = doms.has(day.day);
    const dowOk = dows.has(day.weekday);
    // Cron's rule: when both day fields are restricted, either may match.
    const dayOk = domRestricted && dowRestricted ? domOk || dowOk : domRestricted ? domOk : dowRestricted ? dowOk : true;
    if (!dayOk) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = beirutInstant(day.year, day.month, day.day, hour, minute);
        if (at.getTime() > after.getTime()) return at;
      }
    }
  }
  return null;
}
