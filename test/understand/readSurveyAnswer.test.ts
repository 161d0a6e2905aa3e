import { describe, expect, it } from "vitest";
import type { SurveyQuestion } from "../../src/conversation/types.js";
import { readSurveyAnswer } from "../../src/understand/readSurveyAnswer.js";

const q = (question: Partial<SurveyQuestion> & Pick<SurveyQuestion, "type">): SurveyQuestion => ({ text: { ar: "س", en: "Q" }, options: [], area: false, ...question });
const choice = q({
  type: "choice",
  options: [
    { ar: "الطرقات", en: "Roads" },
    { ar: "النفايات", en: "Waste" },
    { ar: "الإنارة", en: "Street lights" },
  ],
});

describe("reading a survey answer", () => {
  it.each([
    ["2", "2"],
    ["٣", "3"],
    ["3.", "3"],
    ["3)", "3"],
    ["النفايات", "2"],
    ["street lights", "3"],
    ["tnein", "2"],
  ])("choice '%s' → option %s", (text, value) => {
    expect(readSurveyAnswer(text, choice)).toEqual({ kind: "answer", value });
  });

  it.each(["4", "0", "roads and waste", "", "👍"])("choice '%s' is unusable", (text) => {
    expect(readSurveyAnswer(text, choice)).toEqual({ kind: "unusable" });
  });

  it.each([
    ["7", "7"],
    ["٧٫٥", "7.5"],
    ["3,5", "3.5"],
    ["عشرة", "10"],
  ])("number '%s' → %s", (text, value) => {
    expect(readSurveyAnswer(text, q({ type: "number" }))).toEqual({ kind: "answer", value });
  });

  it.each(["11", "0", "6/5 stars please", "two or three"])("a 1-5 rating '%s' is unusable", (text) => {
    expect(readSurveyAnswer(text, q({ type: "rating", min: 1, max: 5 }))).toEqual({ kind: "unusable" });
  });

  it("a 0-10 rating takes 0 and 10", () => {
    const rating = q({ type: "rating", min: 0, max: 10 });
    expect(readSurveyAnswer("0", rating)).toEqual({ kind: "answer", value: "0" });
    expect(readSurveyAnswer("10/10", rating)).toEqual({ kind: "answer", value: "10" });
  });

  it("a free answer keeps the resident's words, trimmed and capped; punctuation alone is not an answer", () => {
    expect(readSurveyAnswer("  الحفر 🚧  ", q({ type: "text" }))).toEqual({ kind: "answer", value: "الحفر 🚧" });
    expect(readSurveyAnswer("x".repeat(5000), q({ type: "text" }))).toMatchObject({ kind: "answer", value: "x".repeat(1000) });
    expect(readSurveyAnswer("...", q({ type: "text" }))).toEqual({ kind: "unusable" });
  });

  it.each(["skip", "تخطي", "تخطى", "SKIP"])("'%s' skips any question", (text) => {
    expect(readSurveyAnswer(text, q({ type: "yesno" }))).toEqual({ kind: "skip" });
    expect(readSurveyAnswer(text, q({ type: "text" }))).toEqual({ kind: "skip" });
  });
});
