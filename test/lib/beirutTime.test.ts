import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { beirutW3c } from "../../src/lib/beirutTime.js";

const NO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

describe("beirutW3c", () => {
  it.each([
    ["winter", "2026-11-29T07:15:00Z", "2026-11-29T09:15:00+02:00"],
    ["summer", "2026-07-01T12:00:00Z", "2026-07-01T15:00:00+03:00"],
    ["milliseconds dropped, not rounded", "2026-11-29T07:15:00.999Z", "2026-11-29T09:15:00+02:00"],
    ["new year in Beirut before UTC's", "2026-12-31T22:30:00Z", "2027-01-01T00:30:00+02:00"],
    // Spring: at midnight of the last Sunday of March the clocks jump to 01:00.
    ["the last second of winter time", "2026-03-28T21:59:59Z", "2026-03-28T23:59:59+02:00"],
    ["the first second of summer time", "2026-03-28T22:00:00Z", "2026-03-29T01:00:00+03:00"],
    // Autumn: at midnight of the last Sunday of October the clocks go back to 23:00; the hour repeats.
    ["the last second of summer time", "2026-10-24T20:59:59Z", "2026-10-24T23:59:59+03:00"],
    ["the repeated hour, second time round", "2026-10-24T21:00:00Z", "2026-10-24T23:00:00+02:00"],
    ["after the repeated hour", "2026-10-24T22:00:00Z", "2026-10-25T00:00:00+02:00"],
  ])("%s", (_, instant, expected) => {
    expect(beirutW3c(new Date(instant))).toBe(expected);
  });

  it("always names the same instant, to the second, without milliseconds", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }), (at) => {
        const text = beirutW3c(at);
        expect(text).toMatch(NO_MS);
        expect(text.slice(-6)).toMatch(/^\+0[23]:00$/);
        expect(new Date(text).getTime()).toBe(Math.floor(at.getTime() / 1000) * 1000);
      }),
    );
  });
});
