import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SurveyQuestion } from "../../../src/conversation/types.js";
import { surveyResults } from "../../../src/services/surveys/results.js";
import { csvCell, resultsCsv } from "../../../src/services/surveys/resultsCsv.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

const MUNICIPALITY = "qab-elias";

const QUESTIONS: SurveyQuestion[] = [
  { type: "choice", text: { ar: "ما الذي يجب إصلاحه أولاً؟", en: "What should we fix first?" }, options: [{ ar: "الطرقات", en: "Roads" }, { ar: "الإنارة", en: "Lighting" }, { ar: "النفايات", en: "Waste" }], area: false },
  { type: "yesno", text: { ar: "هل لدى أطفالك مكان آمن للعب؟", en: "Do your children have a safe place to play?" }, options: [], area: false },
  { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات؟", en: "How satisfied are you with waste collection?" }, options: [], min: 1, max: 5, area: false },
  { type: "number", text: { ar: "كم ولداً في البيت؟", en: "How many children at home?" }, options: [], area: false },
  { type: "text", text: { ar: "ملاحظات؟", en: "Anything else?" }, options: [], area: false },
];

type Invite = { phone: string; channel?: string; locale?: string; area?: string | null; status?: string; answers?: Array<string | null>; completed?: boolean };

async function seedRun(db: TestDatabase["db"], surveyId: number, number: number, scheduledFor: Date, invites: Invite[]) {
  const run = await db.surveyRun.create({
    data: { municipalityId: MUNICIPALITY, surveyId, number, scheduledFor, questions: JSON.stringify(QUESTIONS), closesAt: new Date(scheduledFor.getTime() + 72 * 3600_000), status: "closed" },
  });
  for (const invite of invites) {
    const resident = await db.resident.upsert({
      where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone: invite.phone } },
      create: { municipalityId: MUNICIPALITY, phone: invite.phone, locale: invite.locale ?? "ar" },
      update: {},
    });
    const answered = (invite.answers ?? []).length > 0;
    const invitation = await db.surveyInvitation.create({
      data: {
        municipalityId: MUNICIPALITY,
        runId: run.id,
        residentId: resident.id,
        channel: invite.channel ?? "sms",
        locale: invite.locale ?? "ar",
        area: invite.area ?? null,
        status: invite.status ?? "sent",
        invitedAt: invite.status && invite.status !== "sent" ? null : scheduledFor,
        startedAt: answered ? new Date(scheduledFor.getTime() + 60_000) : null,
        completedAt: invite.completed ? new Date(scheduledFor.getTime() + 300_000) : null,
        nextQuestion: (invite.answers ?? []).length,
      },
    });
    for (const [questionIndex, value] of (invite.answers ?? []).entries()) {
      await db.surveyAnswer.create({ data: { invitationId: invitation.id, questionIndex, value } });
    }
  }
  return run;
}

describe("survey results", () => {
  let database: TestDatabase;
  let surveyId = 0;
  let runId = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    const db = database.db;
    const survey = await db.survey.create({
      data: {
        municipalityId: MUNICIPALITY,
        title: JSON.stringify({ ar: "الرضا عن جمع النفايات", en: "Waste collection satisfaction" }),
        questions: JSON.stringify(QUESTIONS),
        audience: JSON.stringify({ channels: [], languages: [], areas: [] }),
        recurrence: JSON.stringify({ kind: "monthly", day: 1, time: "10:00" }),
        status: "scheduled",
      },
    });
    surveyId = survey.id;
    await seedRun(db, surveyId, 1, new Date("2026-01-01T08:00:00Z"), [
      { phone: "+96171000001", area: "Hay al-Madaris", answers: ["2", "no", "2", "1", null], completed: true },
      { phone: "+96171000002", area: "Saadnayel Road", answers: ["2", "yes", "4", "2", null], completed: true },
    ]);
    const run = await seedRun(db, surveyId, 2, new Date("2026-02-01T08:00:00Z"), [
      { phone: "+96171000001", area: "Hay al-Madaris", answers: ["1", "yes", "5", "3", "حفر في الطريق, قرب \"المدرسة\""], completed: true },
      { phone: "+96171000002", channel: "whatsapp", locale: "en", area: "Hay al-Madaris", answers: ["2", "no", "3", "7", null], completed: true },
      { phone: "+96171000003", area: "Saadnayel Road", answers: ["1", null] },
      { phone: "+96171000004", area: null },
      { phone: "+96171000005", channel: "whatsapp", status: "unreachable" },
      { phone: "+96171000006", locale: "en", status: "skipped" },
      { phone: "+96171000007", status: "pending" },
      { phone: "+96171000008", area: "=HYPERLINK(\"http://evil\")", answers: ["3", "no", "1", "-2", "=1+1"], completed: true, channel: "whatsapp" },
    ]);
    runId = run.id;
  });

  afterAll(async () => {
    await database?.drop();
  });

  it("is null for an unknown survey or another municipality's", async () => {
    expect(await surveyResults(database.db, MUNICIPALITY, surveyId + 100)).toBeNull();
    expect(await surveyResults(database.db, "zahle", surveyId)).toBeNull();
  });

  it("counts invitations by outcome, newest run first, and the response rate", async () => {
    const results = (await surveyResults(database.db, MUNICIPALITY, surveyId))!;
    expect(results.survey.title.en).toBe("Waste collection satisfaction");
    expect(results.runs.map((r) => r.number)).toEqual([2, 1]);
    const run = results.runs[0]!;
    expect(run).toMatchObject({ id: runId, invited: 5, notReachable: 1, skipped: 1, pending: 1, expired: 0, started: 4, completed: 3 });
    expect(run.responseRate).toBeCloseTo(3 / 5);
    expect(results.runs[1]).toMatchObject({ invited: 2, completed: 2, responseRate: 1 });
  });

  it("counts each option with its label, and skipped answers apart", async () => {
    const run = (await surveyResults(database.db, MUNICIPALITY, surveyId))!.runs[0]!;
    const [choice, yesno] = run.questions;
    expect(choice).toMatchObject({ answered: 4, skipped: 0 });
    expect(choice!.counts.map((c) => [c.value, c.label.en, c.count])).toEqual([["1", "Roads", 2], ["2", "Lighting", 1], ["3", "Waste", 1]]);
    expect(choice!.counts[0]!.share).toBeCloseTo(0.5);
    expect(yesno).toMatchObject({ answered: 3, skipped: 1 });
    expect(yesno!.counts.map((c) => [c.value, c.label.ar, c.count])).toEqual([["yes", "نعم", 1], ["no", "لا", 2]]);
  });

  it("gives a rating's distribution over its whole scale and its mean; a number's statistics", async () => {
    const run = (await surveyResults(database.db, MUNICIPALITY, surveyId))!.runs[0]!;
    const rating = run.questions[2]!;
    expect(rating.counts.map((c) => [c.value, c.count])).toEqual([["1", 1], ["2", 0], ["3", 1], ["4", 0], ["5", 1]]);
    expect(rating.mean).toBe(3);
    expect(run.questions[3]!.stats).toEqual({ count: 3, mean: 2.67, min: -2, max: 7, median: 3 });
  });

  it("lists free answers with masked phones only when asked for individual responses", async () => {
    const aggregated = (await surveyResults(database.db, MUNICIPALITY, surveyId))!.runs[0]!.questions[4]!;
    expect(aggregated).toMatchObject({ answered: 2, skipped: 1, answers: null });
    const detailed = (await surveyResults(database.db, MUNICIPALITY, surveyId, { responses: true }))!.runs[0]!.questions[4]!;
    expect(detailed.answers!.map((a) => [a.value, a.phoneMasked]).sort()).toEqual([
      ["=1+1", "+961•••••008"],
      ['حفر في الطريق, قرب "المدرسة"', "+961•••••001"],
    ]);
    expect(JSON.stringify(detailed)).not.toContain("71000001");
  });

  it("breaks a run down by area, language and channel", async () => {
    const { breakdown } = (await surveyResults(database.db, MUNICIPALITY, surveyId))!.runs[0]!;
    const madaris = breakdown.area.find((g) => g.key === "Hay al-Madaris")!;
    expect(madaris).toMatchObject({ invited: 2, completed: 2, responseRate: 1 });
    expect(madaris.questions[2]!.mean).toBe(4);
    expect(madaris.questions[0]!.counts).toEqual([1, 1, 0]);
    expect(breakdown.area.find((g) => g.key === "Saadnayel Road")).toMatchObject({ invited: 1, completed: 0, responseRate: 0 });
    expect(breakdown.area.at(-1)).toMatchObject({ key: null, invited: 1 });
    expect(breakdown.language.map((g) => [g.key, g.invited, g.completed])).toEqual([["ar", 4, 2], ["en", 1, 1]]);
    expect(breakdown.channel.map((g) => [g.key, g.invited, g.completed])).toEqual([["sms", 3, 1], ["whatsapp", 2, 2]]);
    expect(breakdown.channel.find((g) => g.key === "whatsapp")!.questions[1]!.counts).toEqual([0, 2]);
  });

  it("compares a run with the previous one: mean change and option shares", async () => {
    const results = (await surveyResults(database.db, MUNICIPALITY, surveyId))!;
    const comparison = results.runs[0]!.comparison!;
    expect(results.comparison).toEqual(comparison);
    expect(results.runs[1]!.comparison).toBeNull();
    expect(comparison.previousNumber).toBe(2 - 1);
    expect(comparison.responseRateChange).toBeCloseTo(0.6 - 1);
    const rating = comparison.questions.find((q) => q.index === 2)!;
    expect(rating.meanChange).toBe(0);
    expect(rating.previousMean).toBe(3);
    const choice = comparison.questions.find((q) => q.index === 0)!;
    expect(choice.shares.map((s) => [s.value, Number(s.change.toFixed(2))])).toEqual([["1", 0.5], ["2", -0.75], ["3", 0.25]]);
    expect(comparison.questions.some((q) => q.type === "text")).toBe(false);
  });

  it("with a run selected, gives that run compared with the one before it", async () => {
    const results = (await surveyResults(database.db, MUNICIPALITY, surveyId, { runId }))!;
    expect(results.runs.map((r) => r.id)).toEqual([runId]);
    expect(results.comparison?.previousNumber).toBe(1);
  });

  it("exports one CSV row per response: UTF-8 with a BOM, Arabic intact, no phones, formulas neutralised", async () => {
    const csv = (await resultsCsv(database.db, MUNICIPALITY, surveyId))!;
    expect(csv.startsWith("\uFEFF")).toBe(true);
    expect(Buffer.from(csv, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = csv.slice(1).split("\r\n");
    expect(lines.at(-1)).toBe("");
    expect(lines[0]).toBe(
      "response_id,run,run_date,channel,language,area,started_at,completed_at,Q1: What should we fix first?,Q2: Do your children have a safe place to play?,Q3: How satisfied are you with waste collection?,Q4: How many children at home?,Q5: Anything else?",
    );
    // Run 1: two responses; run 2: four (the ones without a single answer are not responses).
    expect(lines.slice(1, -1).map((l) => l.split(",")[1])).toEqual(["1", "1", "2", "2", "2", "2"]);
    expect(lines[3]).toMatch(/^\d+,2,2026-02-01,sms,ar,Hay al-Madaris,2026-02-01T08:01:00.000Z,2026-02-01T08:05:00.000Z,Roads \(1\),yes,5,3,"حفر في الطريق, قرب ""المدرسة"""$/);
    expect(lines[4]).toMatch(/,whatsapp,en,Hay al-Madaris,.*,Lighting \(2\),no,3,7,$/);
    expect(lines[5]).toMatch(/,sms,ar,Saadnayel Road,2026-02-01T08:01:00.000Z,,Roads \(1\),,,,$/);
    expect(lines[6]).toContain(`,"'=HYPERLINK(""http://evil"")",`);
    expect(lines[6]).toMatch(/,Waste \(3\),no,1,-2,'=1\+1$/);
    expect(csv).not.toMatch(/71000/);
    const one = (await resultsCsv(database.db, MUNICIPALITY, surveyId, { runId }))!;
    expect(one.slice(1).split("\r\n").length).toBe(1 + 4 + 1);
    expect(await resultsCsv(database.db, "zahle", surveyId)).toBeNull();
  });
});

describe("survey results as CSV", () => {
  it("quotes per RFC 4180 and neutralises formulas", () => {
    expect(csvCell('say "hi", then\nleave')).toBe('"say ""hi"", then\nleave"');
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("  =HYPERLINK(\"x\")")).toBe(`"'  =HYPERLINK(""x"")"`);
    expect(csvCell("+961 71")).toBe("'+961 71");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("-2")).toBe("-2");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell(null)).toBe("");
  });
});
