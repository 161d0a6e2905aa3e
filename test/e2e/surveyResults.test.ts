import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SurveyQuestion } from "../../src/conversation/types.js";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

/** The README shows this one. */
export const DOCS_SCREENSHOTS = path.join(import.meta.dirname, "../../docs/screenshots");


const QUESTIONS: SurveyQuestion[] = [
  { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" }, options: [], min: 1, max: 5, area: false },
  { type: "yesno", text: { ar: "هل لدى أطفالك مكان آمن للعب قرب البيت؟", en: "Do your children have a safe place to play near home?" }, options: [], area: false },
  {
    type: "choice",
    text: { ar: "ما الذي يجب أن تصلحه البلدية أولاً؟", en: "What should the municipality fix first?" },
    options: [{ ar: "الطرقات والحفر", en: "Roads and potholes" }, { ar: "إنارة الشوارع", en: "Street lighting" }, { ar: "جمع النفايات", en: "Waste collection" }, { ar: "الحدائق والملاعب", en: "Parks and playgrounds" }],
    area: false,
  },
  { type: "text", text: { ar: "هل من ملاحظة أخرى؟", en: "Anything else?" }, options: [], area: false },
];
const AREAS = ["حي المدارس", "حي الجامع", "طريق سعدنايل", "البلدة القديمة"];
const NOTES = ["الحاوية قرب المدرسة ممتلئة منذ أسبوع", "شكراً لفريق البلدية", "<script>alert(1)</script> الإنارة مطفأة على الطريق العام"];

/** Seeds a monthly survey with two closed runs: 40 residents invited each month, most answering. */
async function seed(world: World) {
  const db = world.db;
  const survey = await db.survey.create({
    data: {
      municipalityId: MUNICIPALITY,
      title: JSON.stringify({ ar: "الرضا عن جمع النفايات، شهرياً", en: "Waste collection satisfaction, monthly" }),
      questions: JSON.stringify(QUESTIONS),
      audience: JSON.stringify({ channels: [], languages: [], areas: [] }),
      recurrence: JSON.stringify({ kind: "monthly", day: 1, time: "10:00" }),
      status: "scheduled",
    },
  });
  const residents = [];
  for (let i = 0; i < 40; i++) {
    residents.push(await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: `+96170${String(200000 + i)}`, locale: i % 4 === 3 ? "en" : "ar", area: AREAS[i % AREAS.length]! } }));
  }
  let runId = 0;
  for (const month of [0, 1]) {
    const scheduledFor = new Date(Date.UTC(2026, 2 + month, 1, 8));
    const run = await db.surveyRun.create({
      data: { municipalityId: MUNICIPALITY, surveyId: survey.id, number: month + 1, scheduledFor, questions: JSON.stringify(QUESTIONS), closesAt: new Date(scheduledFor.getTime() + 72 * 3600_000), status: "closed" },
    });
    runId = run.id;
    for (const [i, resident] of residents.entries()) {
      const unreachable = i % 13 === 12;
      const answers = !unreachable && i % 5 !== 4;
      const invitation = await db.surveyInvitation.create({
        data: {
          municipalityId: MUNICIPALITY,
          runId: run.id,
          residentId: resident.id,
          channel: i % 3 === 0 ? "whatsapp" : "sms",
          locale: resident.locale ?? "ar",
          area: resident.area,
          status: unreachable ? "unreachable" : "sent",
          invitedAt: unreachable ? null : scheduledFor,
          startedAt: answers ? scheduledFor : null,
          completedAt: answers ? scheduledFor : null,
          nextQuestion: answers ? QUESTIONS.length : 0,
        },
      });
      if (!answers) continue;
      const values = [String(Math.min(5, 1 + ((i * 7 + month * 3) % 5) + month)), i % 3 === 0 ? "yes" : "no", String(1 + ((i + month) % 4)), i % 6 === 0 ? NOTES[(i / 6) % NOTES.length]! : null];
      for (const [questionIndex, value] of values.entries()) await db.surveyAnswer.create({ data: { invitationId: invitation.id, questionIndex, value } });
    }
  }
  return { surveyId: survey.id, runId };
}

describe.skipIf(!haveChromium)("survey results in a real browser, in Arabic", () => {
  let world: World;
  let session: BrowserSession;
  let surveyId = 0;

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "hala", role: "admin", locale: "ar" });
    ({ surveyId } = await seed(world));
    session = await openBrowser(world.app);
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("an Arabic-speaking admin signs in and reads the latest run's results", async () => {
    const { page } = session;
    await signIn(session, `${session.base}/staff/surveys/${surveyId}/results`, "hala");
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    expect(await page.locator("svg.bar-chart").count()).toBe(3);
    const body = (await page.textContent("body")) ?? "";
    expect(body).toContain("الرضا عن جمع النفايات، شهرياً");
    expect(body).toContain("مقارنة بالجولة 1");
    expect(body).toContain("<script>alert(1)</script>");
    expect(session.alerted()).toBe(false);
    // Right to left: the first chart's labels sit to the right of its bars.
    const chart = page.locator("svg.bar-chart").first();
    const label = await chart.locator("text").first().boundingBox();
    const bar = await chart.locator("rect.bar").first().boundingBox();
    expect(label!.x).toBeGreaterThan(bar!.x + bar!.width - 1);
    await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, "survey-results-ar.png"), fullPage: true });
  });
});
