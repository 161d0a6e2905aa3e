import request from "supertest";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as schemas from "../../../src/http/api/apiSchemas.js";
import type { OpenApiDocument } from "../../../src/http/api/openApiDocument.js";
import { createStaff } from "../../../src/services/staff.js";
import { SurveyInputSchema } from "../../../src/services/surveys/definition.js";
import { createSurvey } from "../../../src/services/surveys/surveys.js";
import { MUNICIPALITY } from "../../support/testApp.js";
import { createApiWorld, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;
/** An agent given the surveys permission (not an admin). */
let surveyor: string;
let phoneCounter = 0;
const phone = () => `+96171${String(100_000 + ++phoneCounter).slice(1).padStart(6, "0")}`;

beforeAll(async () => {
  world = await createApiWorld();
  const samir = await world.db.$transaction((tx) =>
    createStaff(tx, { municipalityId: MUNICIPALITY, username: "samir", displayName: "Samir", password: "samir-password-123", role: "agent", departments: [], locale: "en" }),
  );
  await world.db.staff.update({ where: { id: samir.id }, data: { canRunSurveys: true } });
  surveyor = await world.tokenFor(samir.id, "surveys script");
});
afterAll(async () => {
  await world.drop();
});

/** A resident who joined surveys; on WhatsApp when they last wrote there, SMS otherwise. */
async function joinedResident(area: string, locale: "ar" | "en", channel: "sms" | "whatsapp" = "sms", extra: { joined?: boolean; optedOut?: boolean } = {}) {
  const number = phone();
  return world.db.resident.create({
    data: {
      municipalityId: MUNICIPALITY,
      phone: number,
      locale,
      area,
      optedOut: extra.optedOut ?? false,
      surveyJoinedAt: extra.joined === false ? null : new Date("2026-01-05T10:00:00Z"),
      surveySource: "keyword",
      ...(channel === "whatsapp" ? { identities: { create: { municipalityId: MUNICIPALITY, channel: "whatsapp", address: `whatsapp:${number}`, lastInboundAt: new Date() } } } : {}),
    },
  });
}

const q = (en: string, ar = `سؤال: ${en}`) => ({ ar, en });

/** A survey for one area (each test its own area, so audiences do not mix). */
function definition(area: string, overrides: Record<string, unknown> = {}) {
  return {
    title: { ar: "رضا عن جمع النفايات", en: "Waste collection" },
    questions: [
      { type: "rating", text: q("How satisfied are you with waste collection?"), min: 1, max: 5 },
      { type: "choice", text: q("What should we fix first?"), options: [q("Roads", "الطرقات"), q("Lights", "الإنارة")] },
      { type: "text", text: q("Anything else?") },
    ],
    audience: { areas: [area] },
    ...overrides,
  };
}

async function created(token: string, body: object) {
  const res = await world.api.post(token, "/surveys", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as z.output<typeof schemas.SurveyCreated>;
}

describe("POST /api/v1/surveys", () => {
  it("creates a draft and answers with the audience and the SMS cost of one run", async () => {
    await joinedResident("Centre", "ar");
    await joinedResident("Centre", "ar");
    await joinedResident("Centre", "en");
    await joinedResident("Centre", "ar", "whatsapp");
    await joinedResident("Centre", "ar", "sms", { joined: false }); // never joined
    await joinedResident("Centre", "en", "sms", { optedOut: true }); // said STOP
    await joinedResident("Elsewhere", "ar"); // another area

    const res = await world.api.post(world.tokens.hala, "/surveys", definition("Centre"));
    expect(res.status).toBe(201);
    expect(schemas.SurveyCreated.safeParse(res.body).error?.issues).toBeUndefined();
    expect(res.headers.location).toBe(`/api/v1/surveys/${res.body.id}`);
    expect(res.body).toMatchObject({
      id: expect.any(Number),
      status: "draft",
      recipients: { total: 4, sms: 3, whatsapp: 1, byLocale: { ar: { sms: 2, whatsapp: 1 }, en: { sms: 1, whatsapp: 0 } } },
      tooLong: [],
    });
    const { perResident } = res.body;
    expect(perResident.ar).toBeGreaterThanOrEqual(4); // invitation + two questions + thanks, at least one segment each
    expect(res.body.estimatedSegments).toBe(2 * perResident.ar + 1 * perResident.en);

    const row = await world.db.survey.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row).toMatchObject({ status: "draft", municipalityId: MUNICIPALITY, createdById: world.staff.hala.id, nextRunAt: null });
  });

  it("GET lists it and GET /surveys/{id} gives back its definition, status and estimate", async () => {
    const { id, estimatedSegments } = await created(world.tokens.hala, definition("Centre", { title: "Playgrounds", schedule: { recurrence: { kind: "monthly", day: 3, time: "10:00" } } }));

    const one = await world.api.get(world.tokens.hala, `/surveys/${id}`);
    expect(one.status).toBe(200);
    expect(schemas.SurveyDetail.safeParse(one.body).error?.issues).toBeUndefined();
    expect(one.body).toMatchObject({
      id,
      status: "draft",
      title: { ar: "Playgrounds", en: "Playgrounds" },
      intro: null,
      audience: { channels: [], languages: [], areas: ["Centre"] },
      schedule: { startAt: null, recurrence: { kind: "monthly", day: 3, time: "10:00" } },
      expiryHours: 72,
      confirmedSegments: null,
      estimate: { estimatedSegments, recipients: { total: 4 } },
    });
    expect(one.body.questions).toHaveLength(3);
    // The definition it gives back is one POST /surveys takes (a copy).
    expect(SurveyInputSchema.safeParse(one.body).success).toBe(true);

    const list = await world.api.get(world.tokens.hala, "/surveys");
    expect(list.status).toBe(200);
    expect(schemas.SurveyList.safeParse(list.body).error?.issues).toBeUndefined();
    expect(list.body.surveys[0]).toMatchObject({ id, status: "draft", questions: 3, runs: 0, lastRunAt: null, recurrence: { kind: "monthly" } });
  });

  const rating17 = { type: "rating", text: q("Rate it"), min: 1, max: 7 };
  it.each([
    ["11 questions", { questions: Array.from({ length: 11 }, (_, i) => ({ type: "yesno", text: q(`Question ${i}?`) })) }, /questions: Too big: expected array to have <=10 items/],
    ["no questions", { questions: [] }, /questions: Too small/],
    ["a choice with 1 option", { questions: [{ type: "choice", text: q("Pick"), options: [q("Only")] }] }, /questions\.0\.options: a choice question needs 2 to 9 options/],
    ["a rating of 1-7", { questions: [rating17] }, /questions\.0\.max: a rating is 1-5 \(min 1, max 5\) or 0-10/],
    ["options on a yes/no question", { questions: [{ type: "yesno", text: q("Yes?"), options: [q("a"), q("b")] }] }, /questions\.0\.options: only a choice question has options/],
    ["a question without its English text", { questions: [{ type: "yesno", text: { ar: "نعم؟" } }] }, /questions\.0\.text\.en: required/],
    ["an unknown question type", { questions: [{ type: "essay", text: q("Write") }] }, /questions\.0\.type: Invalid option/],
    ["a bad cron expression", { schedule: { recurrence: { kind: "cron", expression: "every monday 9am" } } }, /schedule\.recurrence\.expression: not a cron expression/],
    ["a monthly day 31", { schedule: { recurrence: { kind: "monthly", day: 31, time: "10:00" } } }, /schedule\.recurrence\.day: Too big/],
    ["a start that is not a date", { schedule: { startAt: "next week" } }, /schedule\.startAt: Invalid ISO datetime/],
    ["an unknown channel", { audience: { channels: ["fax"] } }, /audience\.channels\.0: Invalid option/],
    // Found in review: each of these used to be stored, then made every survey list answer 500.
    ["a title with an escape character", { title: "Hi\u001b" }, /title: Invalid input/],
    ["a title with a NUL", { title: "Hi\u0000" }, /title: Invalid input/],
    ["an English title with a NUL", { title: { ar: "مرحبا", en: "Hi\u0000" } }, /title(\.en)?: (must not contain control characters|Invalid input)/],
    ["an area with a NUL", { audience: { areas: ["Centre\u0000"] } }, /audience\.areas\.0: must not contain control characters/],
    ["a title of direction marks only", { title: "\u200f\u200f" }, /title: Invalid input/],
    ["a misspelt audience", { audiance: { areas: ["Centre"] } }, /audiance: is not a field of a survey/],
    ["a misspelt area list", { audience: { area: ["Centre"] } }, /audience: Unrecognized key/],
    ["a scale on a number question", { questions: [{ type: "number", text: q("How many?"), min: 1, max: 5 }] }, /questions\.0\.max: min and max are only for a rating question/],
  ])("refuses %s with 400 naming the field", async (_case, overrides, message) => {
    const before = await world.db.survey.count();
    const res = await world.api.post(world.tokens.hala, "/surveys", definition("Centre", overrides));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.stringMatching(/^Invalid request body: /) });
    expect(res.body.error).toMatch(message);
    expect(await world.db.survey.count()).toBe(before);
  });

  it("refuses a missing title and a body that is not JSON", async () => {
    const { title: _title, ...untitled } = definition("Centre");
    const res = await world.api.post(world.tokens.hala, "/surveys", untitled);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("title: required");
    const text = await request(world.app).post("/api/v1/surveys").set("Authorization", `Bearer ${world.tokens.hala}`).type("text").send("title=x");
    expect(text.status).toBe(400);
    expect(text.body).toEqual({ error: "Expected a JSON body with Content-Type: application/json" });
  });
});

describe("scheduling: the same two steps as staff", () => {
  it("refuses a count that is not the estimate with 409 and the current estimate, then schedules with the right one", async () => {
    await joinedResident("Hay el Saray", "ar");
    await joinedResident("Hay el Saray", "en");
    const draft = await created(world.tokens.hala, definition("Hay el Saray"));
    expect(draft.estimatedSegments).toBeGreaterThan(0);

    const wrong = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/schedule`, { confirmedSegments: draft.estimatedSegments + 1 });
    expect(wrong.status).toBe(409);
    expect(schemas.SurveyRefused.safeParse(wrong.body).error?.issues).toBeUndefined();
    expect(wrong.body).toMatchObject({ code: "estimate_changed", status: "draft", estimatedSegments: draft.estimatedSegments, recipients: { total: 2 }, error: expect.stringContaining(`${draft.estimatedSegments} SMS segments`) });

    // The audience grows between seeing the estimate and confirming it: confirm again.
    await joinedResident("Hay el Saray", "ar");
    const stale = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/schedule`, { confirmedSegments: draft.estimatedSegments });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe("estimate_changed");
    expect(stale.body.estimatedSegments).toBeGreaterThan(draft.estimatedSegments);
    expect((await world.db.survey.findUniqueOrThrow({ where: { id: draft.id } })).status).toBe("draft");

    const before = Date.now();
    const ok = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/schedule`, { confirmedSegments: stale.body.estimatedSegments });
    expect(ok.status).toBe(200);
    expect(schemas.SurveyScheduled.safeParse(ok.body).error?.issues).toBeUndefined();
    expect(ok.body).toMatchObject({ id: draft.id, status: "scheduled", confirmedSegments: stale.body.estimatedSegments, recipients: { total: 3 } });
    // No start and a one-off: the first run starts now.
    expect(new Date(ok.body.nextRunAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: draft.id } })).toMatchObject({ status: "scheduled", confirmedSegments: stale.body.estimatedSegments });

    const again = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/schedule`, { confirmedSegments: stale.body.estimatedSegments });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "not_draft", status: "scheduled" });
  });

  it("refuses with 422 a survey whose message is over 2 SMS segments, listing it", async () => {
    const long = "ما مدى رضاك عن خدمة جمع النفايات في حيك خلال هذا الشهر مقارنة بالشهر الماضي، ".repeat(4).trim().slice(0, 290);
    const draft = await created(world.tokens.hala, definition("Long", { questions: [{ type: "yesno", text: { ar: long, en: "Satisfied?" } }] }));
    // The invitation (with the question) and the question asked again, in Arabic only.
    expect(draft.tooLong.map((m) => [m.locale, m.kind, m.question])).toEqual([
      ["ar", "invite", 0],
      ["ar", "retry", 0],
    ]);
    for (const m of draft.tooLong) expect(m.segments).toBeGreaterThan(2);

    const res = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/schedule`, { confirmedSegments: draft.estimatedSegments });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "too_long", status: "draft", tooLong: draft.tooLong });
    expect(res.body.tooLong[0].text).toContain(long.slice(0, 30));
  });

  it("refuses with 422 a start in the past", async () => {
    const draft = await created(world.tokens.hala, definition("Past", { schedule: { startAt: "2020-01-01T08:00:00Z" } }));
    const res = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/schedule`, { confirmedSegments: draft.estimatedSegments });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("start_in_past");
  });

  it.each([
    ["no body", undefined, /Expected a JSON body/],
    ["no count", {}, /confirmedSegments: required/],
    ["a negative count", { confirmedSegments: -1 }, /confirmedSegments: Too small/],
    ["a count as text", { confirmedSegments: "12" }, /confirmedSegments: Invalid input: expected number/],
    ["an unknown field", { confirmedSegments: 1, force: true }, /Unrecognized key: "force"/],
  ])("refuses %s with 400", async (_case, body, message) => {
    const draft = await created(world.tokens.hala, definition("Body"));
    const req = request(world.app).post(`/api/v1/surveys/${draft.id}/schedule`).set("Authorization", `Bearer ${world.tokens.hala}`);
    const res = await (body === undefined ? req : req.send(body));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(message);
  });
});

describe("pause, resume, cancel", () => {
  it("moves a survey through its states, and refuses a wrong state with 409 and its code", async () => {
    const draft = await created(world.tokens.hala, definition("States"));
    const post = (action: string, body: object = {}) => world.api.post(world.tokens.hala, `/surveys/${draft.id}/${action}`, body);

    expect((await post("pause")).body).toMatchObject({ code: "not_scheduled", status: "draft", error: `Survey #${draft.id} is draft: only a scheduled survey can be paused` });
    expect((await post("pause")).status).toBe(409);
    expect((await post("resume")).status).toBe(409);
    expect((await post("schedule", { confirmedSegments: draft.estimatedSegments })).status).toBe(200);

    const paused = await post("pause");
    expect(paused.status).toBe(200);
    expect(schemas.SurveyStatusResponse.safeParse(paused.body).error?.issues).toBeUndefined();
    expect(paused.body).toMatchObject({ id: draft.id, status: "paused" });
    expect((await post("pause")).body).toMatchObject({ code: "not_scheduled", status: "paused" });

    // No body at all is accepted as well as {}.
    const resumed = await request(world.app).post(`/api/v1/surveys/${draft.id}/resume`).set("Authorization", `Bearer ${world.tokens.hala}`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ id: draft.id, status: "scheduled", nextRunAt: expect.any(String) });
    expect((await post("resume")).body).toMatchObject({ code: "not_paused", status: "scheduled" });

    const cancelled = await post("cancel");
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ id: draft.id, status: "cancelled", nextRunAt: null });
    for (const action of ["cancel", "pause", "resume"]) {
      const res = await post(action);
      expect(res.status, action).toBe(409);
      expect(res.body, action).toMatchObject({ code: "already_cancelled", status: "cancelled" });
    }
  });

  it("a draft can be cancelled", async () => {
    const draft = await created(world.tokens.hala, definition("States"));
    const res = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/cancel`, {});
    expect(res.body).toMatchObject({ status: "cancelled" });
  });

  it("refuses a body with fields", async () => {
    const draft = await created(world.tokens.hala, definition("States"));
    const res = await world.api.post(world.tokens.hala, `/surveys/${draft.id}/cancel`, { reason: "typo" });
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('Unrecognized key: "reason"');
  });
});

describe("who may", () => {
  it("an agent without the surveys permission gets 403 on every survey route", async () => {
    const draft = await created(world.tokens.hala, definition("Who"));
    const calls = [
      world.api.get(world.tokens.rania, "/surveys"),
      world.api.post(world.tokens.rania, "/surveys", definition("Who")),
      world.api.get(world.tokens.rania, `/surveys/${draft.id}`),
      world.api.post(world.tokens.rania, `/surveys/${draft.id}/schedule`, { confirmedSegments: draft.estimatedSegments }),
      world.api.post(world.tokens.rania, `/surveys/${draft.id}/pause`, {}),
      world.api.post(world.tokens.rania, `/surveys/${draft.id}/resume`, {}),
      world.api.post(world.tokens.rania, `/surveys/${draft.id}/cancel`, {}),
      world.api.get(world.tokens.rania, `/surveys/${draft.id}/results`),
      world.api.get(world.tokens.rania, `/surveys/${draft.id}/results.csv`),
    ];
    for (const [i, res] of (await Promise.all(calls)).entries()) {
      expect(res.status, `call ${i}`).toBe(403);
      expect(res.body).toEqual({ error: "Surveys need an admin's token or one of a staff member with the surveys permission" });
    }
    expect((await world.db.survey.findUniqueOrThrow({ where: { id: draft.id } })).status).toBe("draft");
  });

  it("an agent with the surveys permission may", async () => {
    const draft = await created(surveyor, definition("Who"));
    expect((await world.api.get(surveyor, `/surveys/${draft.id}`)).status).toBe(200);
    expect((await world.api.post(surveyor, `/surveys/${draft.id}/cancel`, {})).status).toBe(200);
  });

  it("a request without a token is a 401", async () => {
    const res = await request(world.app).get("/api/v1/surveys");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("another municipality's survey is a 404, like one that does not exist", async () => {
    const input = SurveyInputSchema.parse(definition("Centre"));
    const other = await createSurvey(world.db, "zahle", input, null, new Date());
    if (!other.ok) throw new Error(other.refusal);
    const id = other.survey.id;
    const calls = [
      world.api.get(world.tokens.hala, `/surveys/${id}`),
      world.api.post(world.tokens.hala, `/surveys/${id}/schedule`, { confirmedSegments: 0 }),
      world.api.post(world.tokens.hala, `/surveys/${id}/pause`, {}),
      world.api.post(world.tokens.hala, `/surveys/${id}/resume`, {}),
      world.api.post(world.tokens.hala, `/surveys/${id}/cancel`, {}),
      world.api.get(world.tokens.hala, `/surveys/${id}/results`),
      world.api.get(world.tokens.hala, `/surveys/${id}/results.csv`),
      world.api.get(world.tokens.hala, `/surveys/999999`),
    ];
    for (const [i, res] of (await Promise.all(calls)).entries()) {
      expect(res.status, `call ${i}`).toBe(404);
      expect(res.body).toEqual({ error: expect.stringMatching(/^No survey #\d+$/) });
    }
    expect((await world.db.survey.findUniqueOrThrow({ where: { id } })).status).toBe("draft");
    expect((await world.api.get(world.tokens.hala, "/surveys")).body.surveys.map((s: { id: number }) => s.id)).not.toContain(id);
  });

  it.each(["abc", "0", "12.5", "99999999999"])("a malformed id (%s) is a 400", async (id) => {
    const res = await world.api.get(world.tokens.hala, `/surveys/${id}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^Invalid path: id: /);
  });
});

describe("results", () => {
  let surveyId: number;
  /** A closed run of three invitations, built by hand: two answered (one all, one part), one never did. */
  beforeAll(async () => {
    const draft = await created(world.tokens.hala, definition("Results"));
    surveyId = draft.id;
    const survey = await world.db.survey.findUniqueOrThrow({ where: { id: surveyId } });
    const run = await world.db.surveyRun.create({
      data: {
        municipalityId: MUNICIPALITY,
        surveyId,
        number: 1,
        scheduledFor: new Date("2026-03-01T08:00:00Z"),
        status: "closed",
        questions: survey.questions,
        closesAt: new Date("2026-03-04T08:00:00Z"),
        closedAt: new Date("2026-03-04T08:00:00Z"),
      },
    });
    const invite = async (area: string, locale: "ar" | "en", residentPhone: string, answers: Array<string | null> | null, completed: boolean) => {
      const resident = await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: residentPhone, locale, area, surveyJoinedAt: new Date("2026-01-01T00:00:00Z") } });
      const invitation = await world.db.surveyInvitation.create({
        data: {
          municipalityId: MUNICIPALITY,
          runId: run.id,
          residentId: resident.id,
          channel: "sms",
          locale,
          area,
          status: "sent",
          nextQuestion: answers?.length ?? 0,
          invitedAt: new Date("2026-03-01T08:00:00Z"),
          startedAt: answers ? new Date("2026-03-01T08:05:00Z") : null,
          completedAt: completed ? new Date("2026-03-01T08:09:00Z") : null,
        },
      });
      for (const [questionIndex, value] of (answers ?? []).entries()) {
        await world.db.surveyAnswer.create({ data: { invitationId: invitation.id, questionIndex, value, createdAt: new Date(`2026-03-01T08:0${6 + questionIndex}:00Z`) } });
      }
      return invitation;
    };
    await invite("Results", "ar", "+96170111222", ["4", "1", 'الحاوية ممتلئة, "دائماً"'], true);
    await invite("Results", "en", "+96170333444", ["2", null], false);
    await invite("Results", "ar", "+96170555666", null, false);
  });

  it("GET /results gives per run invited, started, completed, and per question counts, mean and free answers", async () => {
    const res = await world.api.get(world.tokens.hala, `/surveys/${surveyId}/results`);
    expect(res.status).toBe(200);
    expect(schemas.SurveyResults.safeParse(res.body).error?.issues).toBeUndefined();
    expect(res.body.survey).toEqual({ id: surveyId, title: { ar: "رضا عن جمع النفايات", en: "Waste collection" }, status: "draft" });
    expect(res.body.runs).toHaveLength(1);
    const [run] = res.body.runs;
    expect(run).toMatchObject({ number: 1, status: "closed", scheduledFor: "2026-03-01T08:00:00.000Z", invited: 3, notReachable: 0, started: 2, completed: 1, comparison: null });
    expect(run.responseRate).toBeCloseTo(1 / 3);

    const [rating, choice, text] = run.questions;
    expect(rating).toMatchObject({ index: 0, type: "rating", answered: 2, skipped: 0, mean: 3, stats: null, answers: null });
    expect(rating.counts.map((c: { value: string; count: number }) => [c.value, c.count])).toEqual([["1", 0], ["2", 1], ["3", 0], ["4", 1], ["5", 0]]);
    expect(choice).toMatchObject({ index: 1, type: "choice", answered: 1, skipped: 1, mean: null });
    expect(choice.counts).toEqual([
      { value: "1", label: { ar: "الطرقات", en: "Roads" }, count: 1, share: 1 },
      { value: "2", label: { ar: "الإنارة", en: "Lights" }, count: 0, share: 0 },
    ]);
    expect(text).toMatchObject({ index: 2, type: "text", answered: 1, counts: [], answers: [{ value: 'الحاوية ممتلئة, "دائماً"', phoneMasked: "+961•••••222", area: "Results" }] });
    expect(JSON.stringify(res.body)).not.toContain("+96170111222");
    expect(run.breakdown.language.map((g: { key: string; invited: number; completed: number }) => [g.key, g.invited, g.completed])).toEqual([
      ["ar", 2, 1],
      ["en", 1, 0],
    ]);
    expect(run.breakdown.area).toEqual([expect.objectContaining({ key: "Results", invited: 3, completed: 1 })]);
  });

  it("a survey without runs has an empty list of runs", async () => {
    const draft = await created(world.tokens.hala, definition("Results"));
    const res = await world.api.get(surveyor, `/surveys/${draft.id}/results`);
    expect(res.status).toBe(200);
    expect(res.body.runs).toEqual([]);
  });

  it("GET /results.csv is one row per response, as an attachment", async () => {
    const res = await world.api.get(world.tokens.hala, `/surveys/${surveyId}/results.csv`).buffer(true).parse((r, done) => {
      let data = "";
      r.setEncoding("utf8");
      r.on("data", (chunk: string) => (data += chunk));
      r.on("end", () => done(null, data));
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["content-disposition"]).toBe(`attachment; filename=survey-${surveyId}-results.csv`);
    expect(res.headers["cache-control"]).toBe("no-store");
    const lines = String(res.body).replace(/^\uFEFF/, "").trimEnd().split("\r\n");
    expect(lines).toHaveLength(3); // the header and the two residents who answered
    expect(lines[0]).toBe("response_id,run,run_date,channel,language,area,started_at,completed_at,Q1: How satisfied are you with waste collection?,Q2: What should we fix first?,Q3: Anything else?");
    expect(lines[1]).toMatch(/^\d+,1,2026-03-01,sms,ar,Results,2026-03-01T08:05:00.000Z,2026-03-01T08:09:00.000Z,4,Roads \(1\),"الحاوية ممتلئة, ""دائماً"""$/);
    expect(lines[2]).toMatch(/^\d+,1,2026-03-01,sms,en,Results,2026-03-01T08:05:00.000Z,,2,,$/);
    expect(String(res.body)).not.toContain("+961");
  });
});

describe("the OpenAPI document", () => {
  let doc: OpenApiDocument;
  beforeAll(async () => {
    doc = (await request(world.app).get("/api/v1/openapi.json")).body;
  });

  it("documents every survey path", () => {
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/surveys")).sort()).toEqual(
      ["/surveys", "/surveys/{id}", "/surveys/{id}/cancel", "/surveys/{id}/pause", "/surveys/{id}/results", "/surveys/{id}/results.csv", "/surveys/{id}/resume", "/surveys/{id}/schedule"].sort(),
    );
    expect(doc.paths["/surveys"]?.post?.requestBody).toMatchObject({ content: { "application/json": { schema: { $ref: "#/components/schemas/SurveyDefinition" } } } });
    expect(doc.components.schemas.SurveyDefinition).toMatchObject({ type: "object", required: expect.arrayContaining(["title", "questions"]) });
  });

  it("its survey examples are true: each parses with the zod schema of its component", () => {
    const zodFor: Record<string, z.ZodType> = {
      SurveyDefinition: schemas.SurveyDefinition,
      ScheduleRequest: schemas.ScheduleRequest,
      SurveyActionRequest: schemas.SurveyActionRequest,
      SurveyCreated: schemas.SurveyCreated,
      SurveyScheduled: schemas.SurveyScheduled,
      SurveyStatusResponse: schemas.SurveyStatusResponse,
      SurveyList: schemas.SurveyList,
      SurveyDetail: schemas.SurveyDetail,
      SurveyRefused: schemas.SurveyRefused,
      SurveyResults: schemas.SurveyResults,
    };
    type Media = { schema?: { $ref?: string }; example?: unknown; examples?: Record<string, { value: unknown }> };
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths).filter(([p]) => p.startsWith("/surveys"))) {
      for (const operation of [item.get, item.post].filter((o) => o !== undefined)) {
        const bodies = [operation.requestBody, ...Object.values(operation.responses as Record<string, unknown>)] as Array<{ content?: Record<string, Media> } | undefined>;
        for (const body of bodies) {
          const media = body?.content?.["application/json"];
          const schema = media?.schema?.$ref && zodFor[media.schema.$ref.replace("#/components/schemas/", "")];
          if (!media || !schema) continue;
          for (const value of [...(media.example === undefined ? [] : [media.example]), ...Object.values(media.examples ?? {}).map((e) => e.value)]) {
            expect(schema.safeParse(value).error?.issues, `${path}: ${JSON.stringify(value)}`).toBeUndefined();
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(15);
  });
});
