import { describe, expect, it } from "vitest";
import { beirutLocalInstant } from "../../../src/http/staff/surveys/surveyForm.js";

describe("the start of a survey, typed in Beirut time", () => {
  it("is the instant Beirut's clocks show, summer and winter", () => {
    expect(beirutLocalInstant("2026-07-01T10:00")?.toISOString()).toBe("2026-07-01T07:00:00.000Z");
    expect(beirutLocalInstant("2026-12-01T10:00")?.toISOString()).toBe("2026-12-01T08:00:00.000Z");
  });

  it.each(["2026-02-31T10:00", "2026-04-31T09:00", "2026-13-01T10:00", "2026-06-01T24:00", "next monday"])("'%s' does not exist and is refused", (value) => {
    expect(beirutLocalInstant(value)).toBeNull();
  });
});
