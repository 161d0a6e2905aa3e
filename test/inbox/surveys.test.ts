import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { surveyState, STATE_VERSION } from "../../src/conversation/state.js";
import type { SurveyQuestion } from "../../src/conversation/types.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../support/twilio.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld({ surveyOffer: true });
});
afterAll(async () => {
  await world.drop();
});

let phoneCounter = 0;
const freshPhone = () => `+9617${String(3000000 + ++phoneCounter).slice(1)}`;

const QUESTIONS: SurveyQuestion[] = [
  { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" }, options: [], min: 1, max: 5, area: false },
  {
    type: "choice",
    text: { ar: "في أي حي تسكن؟", en: "Which area do you live in?" },
    options: [
      { ar: "قب الياس", en: "Qab Elias" },
      { ar: "وادي الدلم", en: "Wadi al-Delm" },
    ],
    area: true,
  },
  { type: "text", text: { ar: "ما الذي يجب أن تصلحه البلدية أولاً؟", en: "What should the municipality fix first?" }, options: [], area: false },
];

async function sms(from: string, body: string): Promise<string> {
  const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: from, Body: body }));
  expect(res.status).toBe(200);
  return twimlMessages(res.text).join("\n");
}

/** A joined resident who received run 1's invitation (as the survey job leaves them). */
async function invitedResident(options: { closesInHours?: number } = {}) {
  const phone = freshPhone();
  await sms(phone, "مرحبا");
  const now = new Date();
  const resident = await world.db.resident.update({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } }, data: { surveyJoinedAt: now, surveySource: "keyword" } });
  const survey = await world.db.survey.create({
    data: {
      municipalityId: MUNICIPALITY,
      title: JSON.stringify({ ar: "رضا السكان عن جمع النفايات", en: "Waste collection satisfaction" }),
      questions: JSON.stringify(QUESTIONS),
      audience: JSON.stringify({ channels: [], languages: [], areas: [] }),
      status: "scheduled",
      createdAt: now,
      updatedAt: now,
    },
  });
  const run = await world.db.surveyRun.create({
    data: {
      surveyId: survey.id,
      number: 1,
      scheduledFor: now,
      questions: JSON.stringify(QUESTIONS),
      closesAt: new Date(now.getTime() + (options.closesInHours ?? 72) * 3600_000),
      createdAt: now,
      updatedAt: now,
    },
  });
  const invitation = await world.db.surveyInvitation.create({
    data: { runId: run.id, residentId: resident.id, channel: "sms", locale: "ar", status: "sent", invitedAt: now, createdAt: now, updatedAt: now },
  });
  await world.db.conversation.update({ where: { residentId: resident.id }, data: { state: JSON.stringify(surveyState(invitation.id, 0)), stateVersion: STATE_VERSION } });
  return { phone, resident, invitation };
}

describe("a survey answered by SMS, stored", () => {
  it("each answer is stored as it comes; the area question sets the resident's area; the last completes the invitation", async () => {
    const { phone, resident, invitation } = await invitedResident();
    expect(await sms(phone, "٤")).toBe("2/3 في أي حي تسكن؟\n1 قب الياس\n2 وادي الدلم");
    let stored = await world.db.surveyInvitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(stored).toMatchObject({ nextQuestion: 1, completedAt: null });
    expect(stored.startedAt).not.toBeNull();
    await sms(phone, "2");
    expect(await sms(phone, "الحفر قرب المدرسة")).toBe("شكراً! أجوبتك تساعد البلدية في التخطيط.");
    const answers = await world.db.surveyAnswer.findMany({ where: { invitationId: invitation.id }, orderBy: { questionIndex: "asc" } });
    expect(answers.map((a) => [a.questionIndex, a.value])).toEqual([
      [0, "4"],
      [1, "2"],
      [2, "الحفر قرب المدرسة"],
    ]);
    stored = await world.db.surveyInvitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(stored.nextQuestion).toBe(3);
    expect(stored.completedAt).not.toBeNull();
    expect((await world.db.resident.findUniqueOrThrow({ where: { id: resident.id } })).area).toBe("Wadi al-Delm");
    // The run's breakdown by area counts this answer under the area just given.
    expect(stored.area).toBe("Wadi al-Delm");
    // No request was filed from the answers.
    expect(await world.db.ticket.count({ where: { residentId: resident.id } })).toBe(0);
  });

  it("a pothole mid-survey pauses it; 'استطلاع' resumes where it stopped", async () => {
    const { phone, invitation } = await invitedResident();
    await sms(phone, "3");
    const paused = await sms(phone, "في جورة كبيرة بالطريق العام");
    expect(paused.startsWith("أوقفنا الاستطلاع مؤقتاً.")).toBe(true);
    expect((await world.db.surveyInvitation.findUniqueOrThrow({ where: { id: invitation.id } })).pausedAt).not.toBeNull();
    await sms(phone, "الغاء");
    expect(await sms(phone, "استطلاع")).toBe("لنكمل الاستطلاع:\n2/3 في أي حي تسكن؟\n1 قب الياس\n2 وادي الدلم");
    const resumed = await world.db.surveyInvitation.findUniqueOrThrow({ where: { id: invitation.id } });
    expect(resumed.pausedAt).toBeNull();
    expect(resumed.resumedAt).not.toBeNull();
  });

  it("a late answer after the run closed is thanked and not counted", async () => {
    const { phone, invitation } = await invitedResident({ closesInHours: -1 });
    expect(await sms(phone, "5")).toBe("شكراً! انتهى هذا الاستطلاع فلم يُحتسب جوابك.");
    expect(await world.db.surveyAnswer.count({ where: { invitationId: invitation.id } })).toBe(0);
  });

  it("another resident's invitation id in a forged state reads nothing of it", async () => {
    const { invitation } = await invitedResident();
    const other = freshPhone();
    await sms(other, "hello");
    const resident = await world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone: other } } });
    await world.db.conversation.update({ where: { residentId: resident.id }, data: { state: JSON.stringify(surveyState(invitation.id, 0)) } });
    await sms(other, "5");
    expect(await world.db.surveyAnswer.count({ where: { invitationId: invitation.id } })).toBe(0);
  });
});

describe("consent, stored", () => {
  it("'istitla3' joins (when and how are kept); 'bala istitla3at' leaves surveys only; STOP silences everything", async () => {
    const phone = freshPhone();
    expect(await sms(phone, "istitla3")).toContain("ستصلك استطلاعات البلدية");
    const key = { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } };
    let resident = await world.db.resident.findUniqueOrThrow({ where: key });
    expect(resident).toMatchObject({ surveySource: "keyword", surveyLeftAt: null, optedOut: false });
    expect(resident.surveyJoinedAt).not.toBeNull();
    expect(await sms(phone, "bala istitla3at")).toContain("لن تصلك استطلاعات");
    resident = await world.db.resident.findUniqueOrThrow({ where: key });
    expect(resident.surveyLeftAt).not.toBeNull();
    expect(resident.optedOut).toBe(false);
    await sms(phone, "STOP");
    expect((await world.db.resident.findUniqueOrThrow({ where: key })).optedOut).toBe(true);
  });

  it("the offer after a first request is recorded, asked once, and 'yes' joins with source 'offer'", async () => {
    const phone = freshPhone();
    await sms(phone, "there is a big pothole on the main road");
    await sms(phone, "1");
    await sms(phone, "main road near the bakery");
    const filed = await sms(phone, "1");
    expect(filed).toContain("Would you like short surveys");
    const key = { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } };
    expect((await world.db.resident.findUniqueOrThrow({ where: key })).surveyOfferedAt).not.toBeNull();
    expect(await sms(phone, "yes")).toContain("You will get the municipality's short surveys");
    expect(await world.db.resident.findUniqueOrThrow({ where: key })).toMatchObject({ surveySource: "offer", surveyLeftAt: null });
  });
});
