import { describe, expect, it } from "vitest";
import { DEFAULT_FIRST_RESPONSE_HOURS, DEFAULT_RESOLUTION_HOURS, ticketTarget, type CategoryTargets } from "../../src/services/targets.js";

const NOW = new Date("2026-03-14T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const hoursFromNow = (h: number) => new Date(NOW.getTime() + h * 3_600_000);
const playground: CategoryTargets = { firstResponseHours: 4, resolutionHours: 72 };

describe("a ticket against its category's targets", () => {
  it("the defaults are a first reply within a day and resolution within a week", () => {
    expect([DEFAULT_FIRST_RESPONSE_HOURS, DEFAULT_RESOLUTION_HOURS]).toEqual([24, 168]);
  });

  it.each([
    ["just filed", { createdAt: hoursAgo(0), waitingSince: hoursAgo(0), firstResponseAt: null }, playground, { state: "ok", dueAt: hoursFromNow(4), kind: "first_response" }],
    ["waiting 2 h of 4 (half)", { createdAt: hoursAgo(2), waitingSince: hoursAgo(2), firstResponseAt: null }, playground, { state: "ok", dueAt: hoursFromNow(2), kind: "first_response" }],
    ["waiting 3 h of 4 (three quarters): near", { createdAt: hoursAgo(3), waitingSince: hoursAgo(3), firstResponseAt: null }, playground, { state: "near", dueAt: hoursFromNow(1), kind: "first_response" }],
    ["waiting 4 h of 4: overdue", { createdAt: hoursAgo(4), waitingSince: hoursAgo(4), firstResponseAt: null }, playground, { state: "overdue", dueAt: hoursAgo(0), kind: "first_response" }],
    [
      "answered once: a later unanswered message has no first-response target, the resolution runs from the filing",
      { createdAt: hoursAgo(60), waitingSince: hoursAgo(10), firstResponseAt: hoursAgo(50) },
      playground,
      { state: "near", dueAt: hoursFromNow(12), kind: "resolution" },
    ],
    ["answered, filed 3 days ago with 72 h to resolve: overdue", { createdAt: hoursAgo(72), waitingSince: null, firstResponseAt: hoursAgo(70) }, playground, { state: "overdue", dueAt: hoursAgo(0), kind: "resolution" }],
    [
      "both overdue: the one that fell due first",
      { createdAt: hoursAgo(80), waitingSince: hoursAgo(79), firstResponseAt: null },
      playground,
      { state: "overdue", dueAt: hoursAgo(75), kind: "first_response" },
    ],
    ["no category: the defaults", { createdAt: hoursAgo(20), waitingSince: hoursAgo(20), firstResponseAt: null }, null, { state: "near", dueAt: hoursFromNow(4), kind: "first_response" }],
    [
      "a category without targets: the defaults",
      { createdAt: hoursAgo(130), waitingSince: null, firstResponseAt: hoursAgo(120) },
      { firstResponseHours: null, resolutionHours: null },
      { state: "near", dueAt: hoursFromNow(38), kind: "resolution" },
    ],
  ] as const)("%s", (_case, times, category, expected) => {
    expect(ticketTarget({ status: "new", ...times }, category, NOW)).toEqual(expected);
  });

  it.each(["resolved", "closed"])("a %s ticket has no running target", (status) => {
    expect(ticketTarget({ status, createdAt: hoursAgo(1000), waitingSince: hoursAgo(1000), firstResponseAt: null }, playground, NOW)).toEqual({ state: "ok", dueAt: null, kind: null });
  });
});
