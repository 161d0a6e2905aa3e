import express, { type ErrorRequestHandler } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SurveyQuestion } from "../../../src/conversation/types.js";
import { surveyResultsRoutes } from "../../../src/http/staff/surveys/resultsPage.js";
import { HttpError } from "../../../src/lib/httpError.js";
import { MUNICIPALITY } from "../../support/testApp.js";
import { createTestWorld } from "../../support/testApp.js";
import { hire, signedIn, textOf, type World } from "./staffBrowser.js";

const QUESTIONS: SurveyQuestion[] = [
  { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات؟", en: "How satisfied are you with waste collection?" }, options: [], min: 1, max: 5, area: false },
  { type: "choice", text: { ar: "ما الأولوية؟ <b>bold</b>", en: "What comes first? <b>bold</b>" }, options: [{ ar: "الطرقات", en: "Roads" }, { ar: "الإنارة <i>", en: "Lighting <i>" }], area: false },
  { type: "text", text: { ar: "ملاحظات؟", en: "Anything else?" }, options: [], area: false },
];
const XSS = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

/**
 * The staff app with the results routes in front (the staff router mounts them in production; here
 * they are added around the test world's app so this file tests them on their own).
 */
function appWithResults(world: World) {
  const outer = express();
  outer.set("trust proxy", "loopback");
  const staff = express.Router();
  surveyResultsRoutes(staff, { ...world.deps, clock: () => new Date() });
  outer.use("/staff", staff);
  outer.use(world.app);
  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(error instanceof HttpError ? error.status : 500).type("text").send(error instanceof Error ? error.message : "error");
  };
  outer.use(errors);
  return outer;
}

async function seed(world: World) {
  const db = world.db;
  const survey = await db.survey.create({
    data: {
      municipalityId: MUNICIPALITY,
      title: JSON.stringify({ ar: "الرضا عن النفايات <svg onload=alert(2)>", en: "Waste satisfaction <svg onload=alert(2)>" }),
      questions: JSON.stringify(QUESTIONS),
      audience: JSON.stringify({ channels: [], languages: [], areas: [] }),
      recurrence: JSON.stringify({ kind: "monthly", day: 1, time: "10:00" }),
      status: "scheduled",
    },
  });
  const runs: number[] = [];
  const plan: Array<Array<{ area: string; channel: string; locale: string; answers: Array<string | null> }>> = [
    [
      { area: "حي المدارس", channel: "sms", locale: "ar", answers: ["2", "1", null] },
      { area: "حي المدارس", channel: "sms", locale: "ar", answers: ["2", "1", null] },
    ],
    [
      { area: "حي المدارس", channel: "sms", locale: "ar", answers: ["5", "1", XSS] },
      { area: "حي المدارس", channel: "whatsapp", locale: "en", answers: ["4", "2", null] },
      { area: "Saadnayel Road", channel: "sms", locale: "ar", answers: ["3", "1", "الإنارة مطفأة"] },
    ],
  ];
  let phone = 0;
  for (const [n, invites] of plan.entries()) {
    const scheduledFor = new Date(Date.UTC(2026, n, 1, 8));
    const run = await db.surveyRun.create({
      data: { municipalityId: MUNICIPALITY, surveyId: survey.id, number: n + 1, scheduledFor, questions: JSON.stringify(QUESTIONS), closesAt: new Date(scheduledFor.getTime() + 72 * 3600_000), status: "closed" },
    });
    runs.push(run.id);
    for (const invite of invites) {
      const resident = await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: `+9617100${String(++phone).padStart(4, "0")}`, locale: invite.locale, area: invite.area } });
      const invitation = await db.surveyInvitation.create({
        data: { municipalityId: MUNICIPALITY, runId: run.id, residentId: resident.id, channel: invite.channel, locale: invite.locale, area: invite.area, status: "sent", invitedAt: scheduledFor, startedAt: scheduledFor, completedAt: scheduledFor, nextQuestion: 3 },
      });
      for (const [questionIndex, value] of invite.answers.entries()) await db.surveyAnswer.create({ data: { invitationId: invitation.id, questionIndex, value } });
    }
  }
  return { surveyId: survey.id, runs };
}

describe("survey results pages", () => {
  let world: World;
  let app: express.Express;
  let surveyId = 0;
  let runs: number[] = [];

  beforeAll(async () => {
    world = await createTestWorld();
    const ids = await hire(world, "hala", "rania", "karim");
    await world.db.staff.update({ where: { id: ids.karim }, data: { canRunSurveys: true } });
    app = appWithResults(world);
    ({ surveyId, runs } = await seed(world));
  });

  afterAll(async () => {
    await world?.drop();
  });

  it("shows an admin the newest run: response rate, charts with their numbers, means, breakdowns, comparison", async () => {
    const browser = await signedIn(app, "hala");
    const res = await browser.get(`/staff/surveys/${surveyId}/results`);
    expect(res.status, res.text).toBe(200);
    const page = res.text;
    expect(page).toContain('dir="rtl"');
    expect(page).toContain("3 من 3 · 100%");
    // One chart per rating/choice question, as inline SVG with a title and the numbers as text.
    const charts = page.match(/<svg class="bar-chart"[\s\S]*?<\/svg>/g) ?? [];
    expect(charts).toHaveLength(2);
    expect(charts[0]).toContain('role="img"');
    expect(charts[0]).toMatch(/<title id="chart-\d+-0-title">السؤال 1: ما مدى رضاك عن جمع النفايات؟<\/title>/);
    expect(charts[0]).toContain('direction="rtl"');
    expect((charts[0]!.match(/class="bar"/g) ?? []).length).toBe(5);
    expect(charts[0]).toContain(">\u20661 · 33%\u2069</text>");
    expect(charts[1]).toContain(">\u20662 · 67%\u2069</text>");
    expect(charts[1]).toContain("الطرقات");
    expect(page).toContain("4 على مقياس 1–5");
    // Breakdowns by area, language and channel.
    expect(page).toMatch(/<table class="admin-table breakdown breakdown-area">[\s\S]*حي المدارس[\s\S]*Saadnayel Road/);
    expect(page).toContain("breakdown-language");
    expect(page).toContain("breakdown-channel");
    expect(page).toContain("المعدّل 4.5");
    // Against run 1: the mean went from 2 to 4.
    expect(page).toContain("مقارنة بالجولة 1");
    expect(page).toMatch(/delta-up[\s\S]*?\+2/);
    // The run selector and the export.
    expect(page).toContain(`<option value="${runs[0]}"`);
    expect(page).toContain(`href="/staff/surveys/${surveyId}/results.csv?run=${runs[1]}"`);
    expect(page).toContain(`href="/staff/surveys/${surveyId}/runs/${runs[1]}/responses"`);
  });

  it("escapes staff-written questions and resident-written answers: they show as text", async () => {
    const browser = await signedIn(app, "hala");
    const page = (await browser.get(`/staff/surveys/${surveyId}/results`)).text;
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img src=x");
    expect(page).not.toContain("<svg onload");
    expect(page).not.toContain("<b>bold</b>");
    expect(page).not.toContain("الإنارة <i>");
    expect(textOf(page)).toContain(XSS);
    expect(textOf(page)).toContain("الرضا عن النفايات <svg onload=alert(2)>");
    // Free answers with the phone masked.
    expect(page).toContain("+961•••••003");
    expect(page).not.toContain("+96171000003");
    expect(page).toContain("الإنارة مطفأة");
  });

  it("shows an older run with ?run, in English for an English-speaking agent with the surveys permission", async () => {
    const browser = await signedIn(app, "karim");
    const res = await browser.get(`/staff/surveys/${surveyId}/results?run=${runs[0]}`);
    expect(res.status, res.text).toBe(200);
    expect(res.text).toContain('dir="ltr"');
    expect(res.text).toContain("Run 1");
    expect(res.text).toContain("This is the first run");
    expect(res.text).toContain('direction="ltr"');
    expect((await browser.get(`/staff/surveys/${surveyId}/results?run=999999`)).status).toBe(404);
    expect((await browser.get(`/staff/surveys/${surveyId}/results?run=abc`)).status).toBe(400);
    expect((await browser.get(`/staff/surveys/999999/results`)).status).toBe(404);
  });

  it("lists the individual responses of a run with masked phones", async () => {
    const browser = await signedIn(app, "karim");
    const res = await browser.get(`/staff/surveys/${surveyId}/runs/${runs[1]}/responses`);
    expect(res.status, res.text).toBe(200);
    expect((res.text.match(/<tr data-invitation=/g) ?? []).length).toBe(3);
    expect(res.text).toContain("+961•••••005");
    expect(res.text).not.toContain("<script>alert");
    expect(textOf(res.text)).toContain(XSS);
    expect((await browser.get(`/staff/surveys/${surveyId}/runs/999999/responses`)).status).toBe(404);
  });

  it("exports the CSV: a BOM, one row per response, no phone numbers", async () => {
    const browser = await signedIn(app, "hala");
    const res = await browser.get(`/staff/surveys/${surveyId}/results.csv`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers["content-disposition"]).toContain("attachment");
    expect(res.text.charCodeAt(0)).toBe(0xfeff);
    expect(res.text.trim().split("\r\n")).toHaveLength(1 + 5);
    expect(res.text).not.toMatch(/\+9617100/);
    expect(res.text).toContain("حي المدارس");
  });

  it("refuses agents without the surveys permission (403), and asks strangers to sign in", async () => {
    const rania = await signedIn(app, "rania");
    for (const path of [`/staff/surveys/${surveyId}/results`, `/staff/surveys/${surveyId}/results.csv`, `/staff/surveys/${surveyId}/runs/${runs[0]}/responses`]) {
      expect((await rania.get(path)).status, path).toBe(403);
    }
    const stranger = await signedIn(app, "rania");
    stranger.cookies.clear();
    const res = await stranger.get(`/staff/surveys/${surveyId}/results`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toContain("/staff/login");
  });
});
