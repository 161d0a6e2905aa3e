import { describe, expect, it } from "vitest";
import { AttributeDefinition, attributeValuesOf, readAttributeAnswers, type AttributeRule } from "../../../src/services/open311/attributes.js";

const howMany: AttributeRule = { code: "how_many", datatype: "singlevaluelist", required: true, values: [{ key: "one" }, { key: "two_to_five" }, { key: "more_than_five" }] };
const kinds: AttributeRule = { code: "kinds", datatype: "multivaluelist", required: false, values: [{ key: "dogs" }, { key: "cats" }, { key: "other" }] };
const rule = (code: string, datatype: AttributeRule["datatype"], required = false): AttributeRule => ({ code, datatype, required, values: [] });
const answers = (defs: AttributeRule[], raw: Record<string, string[]>) => readAttributeAnswers(defs, new Map(Object.entries(raw)));

describe("an attribute definition", () => {
  const valid = {
    code: "how_many",
    datatype: "singlevaluelist",
    required: true,
    descriptionAr: "كم عدد الحيوانات؟",
    descriptionEn: "How many animals?",
    values: [
      { key: "one", nameAr: "حيوان واحد", nameEn: "One" },
      { key: "two_to_five", nameAr: "من اثنين إلى خمسة", nameEn: "Two to five" },
    ],
  };
  const problems = (patch: Record<string, unknown>) => {
    const result = AttributeDefinition.safeParse({ ...valid, ...patch });
    return result.success ? [] : [...new Set(result.error.issues.map((i) => i.message))];
  };

  it("accepts the stray animals example", () => {
    expect(problems({})).toEqual([]);
  });

  it.each([
    [{ code: "How_many" }, "code"],
    [{ code: "1st" }, "code"],
    [{ code: "a".repeat(41) }, "code"],
    [{ code: "how-many" }, "code"],
    [{ datatype: "boolean" }, "datatype"],
    [{ descriptionAr: " " }, "descriptionAr"],
    [{ descriptionEn: "x".repeat(301) }, "descriptionEn"],
    [{ values: [] }, "values.count"],
    [{ values: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, nameAr: "س", nameEn: "x" })) }, "values.count"],
    [{ values: [{ key: "One", nameAr: "س", nameEn: "x" }] }, "values.key"],
    [{ values: [{ key: "one", nameAr: "", nameEn: "x" }] }, "values.name"],
    [{ values: [{ key: "one", nameAr: "س", nameEn: "x" }, { key: "one", nameAr: "ص", nameEn: "y" }] }, "values.duplicate"],
    [{ datatype: "string" }, "values.notList"],
  ])("refuses %o: %s", (patch, problem) => {
    expect(problems(patch)).toContain(problem);
  });

  it("a text question has no values; a 40-character code and a 300-character question are fine", () => {
    expect(problems({ datatype: "text", values: [], code: `a${"b".repeat(39)}`, descriptionEn: "x".repeat(300) })).toEqual([]);
  });

  it("a stored values column that is not a list of values reads as none", () => {
    expect(attributeValuesOf('[{"key":"one","nameAr":"واحد","nameEn":"One"}]')).toEqual([{ key: "one", nameAr: "واحد", nameEn: "One" }]);
    expect(attributeValuesOf("not json")).toEqual([]);
    expect(attributeValuesOf('{"key":"one"}')).toEqual([]);
  });
});

describe("reading a client's answers", () => {
  it("answers come back in the questions' order, trimmed", () => {
    expect(answers([howMany, kinds], { kinds: [" cats ", "dogs"], how_many: ["two_to_five"] })).toEqual({
      ok: true,
      answers: [
        { code: "how_many", values: ["two_to_five"] },
        { code: "kinds", values: ["cats", "dogs"] },
      ],
    });
  });

  it("a multi-value list takes attribute[x] repeated or attribute[x][] alike (both arrive as a list), deduplicated", () => {
    expect(answers([kinds], { kinds: ["dogs", "cats", "dogs"] })).toEqual({ ok: true, answers: [{ code: "kinds", values: ["dogs", "cats"] }] });
    expect(answers([kinds], { kinds: ["other"] })).toEqual({ ok: true, answers: [{ code: "kinds", values: ["other"] }] });
  });

  it("an optional question left out, or sent empty, is no answer", () => {
    expect(answers([kinds], {})).toEqual({ ok: true, answers: [] });
    expect(answers([kinds], { kinds: ["", " "] })).toEqual({ ok: true, answers: [] });
  });

  it("a required question left out or empty is a problem", () => {
    expect(answers([howMany], {})).toEqual({ ok: false, problems: ["attribute how_many is required"] });
    expect(answers([howMany], { how_many: [""] })).toEqual({ ok: false, problems: ["attribute how_many is required"] });
  });

  it("an unknown code is a problem (quoted short), and every problem is reported at once", () => {
    const result = answers([howMany], { colour: ["red"], ["x".repeat(60)]: ["1"] });
    expect(result).toEqual({ ok: false, problems: ["unknown attribute colour", `unknown attribute ${"x".repeat(40)}…`, "attribute how_many is required"] });
  });

  it.each([
    ["singlevaluelist", ["two"], false],
    ["singlevaluelist", ["one", "two_to_five"], false],
    ["singlevaluelist", ["ONE"], false],
    ["singlevaluelist", ["one"], true],
    ["number", ["3"], true],
    ["number", ["-2.5"], true],
    ["number", ["1e3"], true],
    ["number", [".5"], true],
    ["number", ["1e400"], false],
    ["number", ["0x10"], false],
    ["number", ["Infinity"], false],
    ["number", ["NaN"], false],
    ["number", ["three"], false],
    ["number", ["1", "2"], false],
    ["datetime", ["2026-11-29"], true],
    ["datetime", ["2026-11-29T09:15:00+02:00"], true],
    ["datetime", ["2026-11-29T09:15+02:00"], true],
    ["datetime", ["2026-11-29T07:15:00.123Z"], true],
    ["datetime", ["2026-11-29T09:15:00"], false],
    ["datetime", ["2026-02-30"], false],
    ["datetime", ["2026-11-29T24:00:00Z"], false],
    ["datetime", ["29/11/2026"], false],
    ["datetime", ["yesterday"], false],
    ["string", ["near the school gate"], true],
    ["string", ["بجانب المدرسة"], true],
    ["string", ["two\nlines"], false],
    ["string", ["x".repeat(200)], true],
    ["string", ["x".repeat(201)], false],
    ["string", ["😀".repeat(200)], true],
    ["text", ["many\nlines are fine"], true],
    ["text", ["x".repeat(2000)], true],
    ["text", ["x".repeat(2001)], false],
  ] as const)("%s answered %j: accepted %s", (datatype, values, accepted) => {
    const def: AttributeRule = datatype === "singlevaluelist" ? howMany : rule("q", datatype);
    const result = answers([def], { [def.code]: [...values] });
    expect(result.ok, JSON.stringify(result)).toBe(accepted);
    if (result.ok) expect(result.answers).toEqual([{ code: def.code, values: [values[0]] }]);
    else expect(result.problems).toEqual([expect.stringContaining(`attribute ${def.code} `)]);
  });

  it("a multi-value list refuses any value it does not offer, naming those it does", () => {
    expect(answers([kinds], { kinds: ["dogs", "horses"] })).toEqual({ ok: false, problems: ["attribute kinds has unknown values (allowed: dogs, cats, other)"] });
  });
});
