import { describe, expect, it } from "vitest";
import { beirutInstant, beirutTime, firstRunAt, nextRunAfter, recurrenceProblem } from "../../../src/services/surveys/recurrence.js";
import { dueOccurrence } from "../../../src/services/surveys/runs.js";

/** "2025-03-30 10:00" on Beirut's clocks, as an instant. */
const beirut = (text: string) => {
  const [, y, mo, d, h, mi] = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)$/.exec(text)!.map(Number) as [number, number, number, number, number, number];
  return beirutInstant(y, mo, d, h, mi);
};
/** An instant read back on Beirut's clocks. */
const wall = (at: Date | null) => {
  if (!at) return null;
  const t = beirutTime(at);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${t.year}-${p(t.month)}-${p(t.day)} ${p(t.hour)}:${p(t.minute)}`;
};

describe("Beirut's clocks", () => {
  // 2025: summer time from Sunday 30 March (00:00 → 01:00) to Sunday 26 October (00:00 → 23:00 the day before repeats).
  it("winter is UTC+2, summer UTC+3", () => {
    expect(beirut("2025-01-15 10:00").toISOString()).toBe("2025-01-15T08:00:00.000Z");
    expect(beirut("2025-07-15 10:00").toISOString()).toBe("2025-07-15T07:00:00.000Z");
  });

  it("a time that does not exist on the night clocks go forward becomes the hour after", () => {
    expect(wall(beirut("2025-03-30 00:30"))).toBe("2025-03-30 01:30");
  });
});

describe("monthly", () => {
  const monthly = { kind: "monthly", day: 1, time: "10:00" } as const;

  it("keeps 10:00 on Beirut's clocks across the change to summer time (last Sunday of March)", () => {
    const march = beirut("2025-03-01 10:00");
    expect(march.toISOString()).toBe("2025-03-01T08:00:00.000Z");
    const april = nextRunAfter(monthly, march);
    expect(wall(april)).toBe("2025-04-01 10:00");
    expect(april!.toISOString()).toBe("2025-04-01T07:00:00.000Z");
  });

  it("keeps 10:00 across the change back to winter time (last Sunday of October)", () => {
    const october = beirut("2025-10-01 10:00");
    expect(october.toISOString()).toBe("2025-10-01T07:00:00.000Z");
    const november = nextRunAfter(monthly, october);
    expect(wall(november)).toBe("2025-11-01 10:00");
    expect(november!.toISOString()).toBe("2025-11-01T08:00:00.000Z");
  });

  it("on the night the clocks go back (Saturday 25 October 2025, 23:00-23:59 happens twice): the first 23:30", () => {
    const lateEvening = { kind: "monthly", day: 25, time: "23:30" } as const;
    const next = nextRunAfter(lateEvening, beirut("2025-10-01 09:00"));
    expect(wall(next)).toBe("2025-10-25 23:30");
    expect(next!.toISOString()).toBe("2025-10-25T20:30:00.000Z");
    // A month later, winter time: UTC+2.
    expect(nextRunAfter(lateEvening, next!)!.toISOString()).toBe("2025-11-25T21:30:00.000Z");
  });

  it("later this month when the day has not come yet; next month once it has; over the year's end", () => {
    expect(wall(nextRunAfter({ kind: "monthly", day: 15, time: "09:30" }, beirut("2025-06-10 12:00")))).toBe("2025-06-15 09:30");
    expect(wall(nextRunAfter({ kind: "monthly", day: 15, time: "09:30" }, beirut("2025-06-15 09:30")))).toBe("2025-07-15 09:30");
    expect(wall(nextRunAfter({ kind: "monthly", day: 5, time: "09:30" }, beirut("2025-12-20 12:00")))).toBe("2026-01-05 09:30");
  });
});

describe("cron", () => {
  it("a weekday expression: Mondays and Thursdays at 18:00, Beirut time", () => {
    const cron = { kind: "cron", expression: "0 18 * * 1,4" } as const;
    // Tuesday 10 June 2025.
    const thursday = nextRunAfter(cron, beirut("2025-06-10 12:00"));
    expect(wall(thursday)).toBe("2025-06-12 18:00");
    expect(beirutTime(thursday!).weekday).toBe(4);
    expect(wall(nextRunAfter(cron, thursday!))).toBe("2025-06-16 18:00");
  });

  it("weekdays at 09:00 across the spring change: still 09:00 on the wall", () => {
    const cron = { kind: "cron", expression: "0 9 * * 1-5" } as const;
    // Friday 28 March 2025, then Monday 31 March (the clocks went forward on Sunday the 30th).
    const friday = beirut("2025-03-28 09:00");
    const monday = nextRunAfter(cron, friday);
    expect(wall(monday)).toBe("2025-03-31 09:00");
    expect(monday!.getTime() - friday.getTime()).toBe((3 * 24 - 1) * 3600_000);
  });

  it("the first of the month, or any Sunday, when both day fields are given (cron's rule)", () => {
    const cron = { kind: "cron", expression: "0 10 1 * 0" } as const;
    // Sunday 29 June, then Tuesday 1 July.
    expect(wall(nextRunAfter(cron, beirut("2025-06-28 12:00")))).toBe("2025-06-29 10:00");
    expect(wall(nextRunAfter(cron, beirut("2025-06-29 10:00")))).toBe("2025-07-01 10:00");
  });

  it.each([
    ["nonsense", "cron_fields"],
    ["61 * * * *", "cron_invalid"],
    ["* * * *", "cron_fields"],
    // Six fields would run every second.
    ["* * * * * *", "cron_fields"],
    ["0 25 * * *", "cron_invalid"],
    ["0 9 * * 9", "cron_invalid"],
  ])("refuses %j (%s)", (expression, problem) => {
    expect(recurrenceProblem({ kind: "cron", expression })).toBe(problem);
    expect(nextRunAfter({ kind: "cron", expression }, new Date("2025-06-10T09:00:00Z"))).toBeNull();
  });

  it("accepts a sound expression and once/monthly recurrences", () => {
    expect(recurrenceProblem({ kind: "cron", expression: "30 9 1 * *" })).toBeNull();
    expect(recurrenceProblem({ kind: "once" })).toBeNull();
    expect(recurrenceProblem({ kind: "monthly", day: 1, time: "10:00" })).toBeNull();
  });
});

describe("first and due runs", () => {
  const now = beirut("2025-06-10 12:00");

  it("a once survey runs at its start, or now; it never runs again", () => {
    expect(firstRunAt({ kind: "once" }, null, now)).toBe(now);
    expect(firstRunAt({ kind: "once" }, beirut("2025-06-11 10:00"), now)).toEqual(beirut("2025-06-11 10:00"));
    expect(nextRunAfter({ kind: "once" }, now)).toBeNull();
  });

  it("a recurring survey without a start waits for its first occurrence", () => {
    expect(wall(firstRunAt({ kind: "monthly", day: 1, time: "10:00" }, null, now))).toBe("2025-07-01 10:00");
  });

  it("after downtime, the latest occurrence that has come runs, and the next is after now", () => {
    const monthly = { kind: "monthly", day: 1, time: "10:00" } as const;
    const due = dueOccurrence(monthly, beirut("2025-02-01 10:00"), now);
    expect(wall(due.scheduledFor)).toBe("2025-06-01 10:00");
    expect(wall(due.nextRunAt)).toBe("2025-07-01 10:00");
    // On time: that occurrence itself.
    const onTime = dueOccurrence(monthly, beirut("2025-06-01 10:00"), beirut("2025-06-01 10:00"));
    expect(wall(onTime.scheduledFor)).toBe("2025-06-01 10:00");
    expect(dueOccurrence({ kind: "once" }, beirut("2025-01-01 10:00"), now)).toEqual({ scheduledFor: beirut("2025-01-01 10:00"), nextRunAt: null });
  });
});
