import { describe, expect, it } from "vitest";
import { checkJurisdiction, readRequestsQuery } from "../../../src/http/open311/params.js";
import { Open311Error } from "../../../src/http/open311/respond.js";

const NOW = new Date("2026-11-29T07:15:00Z");
const DAY = 24 * 3600_000;
const search = (query: Record<string, string | string[]>) => {
  const read = readRequestsQuery(query, NOW);
  if (read.kind !== "search") throw new Error("expected a search");
  return read;
};
const range = (query: Record<string, string | string[]>) => {
  const { start, end } = search(query);
  return [start.toISOString(), end.toISOString()];
};

describe("readRequestsQuery", () => {
  it("defaults to the last 90 days, every status and service, at most 1,000", () => {
    expect(readRequestsQuery({}, NOW)).toEqual({
      kind: "search",
      serviceCodes: [],
      statuses: ["open", "closed"],
      start: new Date(NOW.getTime() - 90 * DAY),
      end: new Date(NOW.getTime() + 1),
      limit: 1000,
    });
  });

  it("reads dates as whole days in Beirut, summer or winter", () => {
    // 1 July: summer time (+03:00); the 90 days after it.
    expect(range({ start_date: "2026-07-01" })).toEqual(["2026-06-30T21:00:00.000Z", new Date(Date.parse("2026-06-30T21:00:00Z") + 90 * DAY).toISOString()]);
    // 1 December: winter time (+02:00); the end date's whole day, and the 90 days before.
    expect(range({ end_date: "2026-12-01" })).toEqual([new Date(Date.parse("2026-12-01T22:00:00Z") - 90 * DAY).toISOString(), "2026-12-01T22:00:00.000Z"]);
    expect(range({ start_date: "2026-03-14", end_date: "2026-03-14" })).toEqual(["2026-03-13T22:00:00.000Z", "2026-03-14T22:00:00.000Z"]);
  });

  it("accepts exactly 90 days, across the change to summer time", () => {
    expect(range({ start_date: "2026-01-01", end_date: "2026-03-31" })).toEqual(["2025-12-31T22:00:00.000Z", "2026-03-31T21:00:00.000Z"]);
  });

  it.each([
    ["2026-03-14T08:30:00+02:00", "2026-03-14T06:30:00.000Z"],
    ["2026-03-14T08:30+02:00", "2026-03-14T06:30:00.000Z"],
    ["2026-03-14T08:30:00.750Z", "2026-03-14T08:30:00.750Z"],
    ["2026-03-14T08:30:00-05:00", "2026-03-14T13:30:00.000Z"],
    ["2026-03-14T08:30:00+0200", "2026-03-14T06:30:00.000Z"],
    // An unencoded "+" in a query string arrives as a space.
    ["2026-03-14T08:30:00 02:00", "2026-03-14T06:30:00.000Z"],
  ])("reads the W3C date-time %s", (value, instant) => {
    expect(search({ start_date: value }).start.toISOString()).toBe(instant);
  });

  it("includes the whole second an end date-time names", () => {
    expect(range({ start_date: "2026-03-14T08:30:00Z", end_date: "2026-03-14T08:30:00Z" })).toEqual(["2026-03-14T08:30:00.000Z", "2026-03-14T08:30:01.000Z"]);
  });

  it.each(["2026-03-14T08:30:00+15:00", "2026-3-14", "1969-12-31", "2026-03-14T08:30:60Z", "14/03/2026", "2026-03-14 08:30:00Z"])("refuses %j", (value) => {
    expect(() => readRequestsQuery({ start_date: value }, NOW)).toThrow(Open311Error);
  });

  it("reads ids, statuses and codes from repeats and commas, each once", () => {
    expect(readRequestsQuery({ service_request_id: ["10427, 10428", "10427,"], status: "closed" }, NOW)).toEqual({ kind: "ids", references: [10427, 10428] });
    expect(search({ status: ["CLOSED", "open,closed"], service_code: ["roads,water", "roads"] })).toMatchObject({ statuses: ["closed", "open"], serviceCodes: ["roads", "water"] });
  });
});

describe("checkJurisdiction", () => {
  it.each([{}, { jurisdiction_id: "" }, { jurisdiction_id: "qabelias.gov.lb" }, { jurisdiction_id: " QabElias.gov.lb " }])("accepts %j", (query) => {
    expect(() => checkJurisdiction(query, "qabelias.gov.lb")).not.toThrow();
  });

  it("refuses another jurisdiction with 404", () => {
    expect(() => checkJurisdiction({ jurisdiction_id: "zahle.gov.lb" }, "qabelias.gov.lb")).toThrow(expect.objectContaining({ status: 404 }));
  });
});
