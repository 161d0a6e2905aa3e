import type { i18n } from "i18next";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseState } from "../../src/conversation/state.js";
import { runSurveys, sendInvitations, type RunSurveysDeps } from "../../src/jobs/runSurveys.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import { surveyColumns, SurveyInputSchema, type SurveyInputJson } from "../../src/services/surveys/definition.js";
import { beirutInstant } from "../../src/services/surveys/recurrence.js";
import { newPhone, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

const TEMPLATE_SID = `HX${"a".repeat(32)}`;
let world: World;
let deps: RunSurveysDeps;
beforeAll(async () => {
  world = await createTestWorld();
  deps = {
    db: world.db,
    dialect: world.dialect,
    municipalityId: MUNICIPALITY,
    i18n: createI18n(),
    outbox: world.deps.outbox,
    smsPerMinute: 30,
    whatsappPerSecond: 20,
    logger: pino({ level: "silent" }),
    holder: "test",
  };
}, 60_000);
afterAll(async () => {
  await world.drop();
});
// Every test starts from a town with no residents, surveys or messages.
beforeEach(async () => {
  await world.db.survey.deleteMany();
  await world.db.resident.deleteMany();
  await world.db.jobLease.deleteMany();
});

/** Beirut wall-clock time (daylight saving included). */
const beirut = (day: string, time: string) => {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const [hh, mm, ss = 0] = time.split(":").map(Number) as [number, number, number?];
  return new Date(beirutInstant(y, m, d, hh, mm).getTime() + ss * 1000);
};
const DAY = "2025-06-10";
const TEN = beirut(DAY, "10:00");
const JOINED = new Date("2025-05-01T09:00:00Z");

const TITLE = { ar: "النظافة", en: "Waste collection" };
const QUESTION = { type: "rating", text: { ar: "ما رأيك بجمع النفايات؟", en: "How satisfied are you with waste collection?" }, min: 1, max: 5 } as const;

async function createSurvey(fields: Partial<SurveyInputJson> & { nextRunAt?: Date | null; status?: string } = {}) {
  const { nextRunAt = TEN, status = "scheduled", ...input } = fields;
  const parsed = SurveyInputSchema.parse({ title: TITLE, questions: [QUESTION], ...input });
  return world.db.survey.create({ data: { municipalityId: MUNICIPALITY, ...surveyColumns(parsed), status, nextRunAt, confirmedSegments: 0 } });
}

interface ResidentOptions {
  joined?: boolean;
  left?: boolean;
  optedOut?: boolean;
  locale?: "ar" | "en";
  channel?: "sms" | "whatsapp";
  /** When they last wrote (default: the day before TEN). */
  lastInboundAt?: Date;
  area?: string;
}

async function resident(options: ResidentOptions = {}) {
  const phone = newPhone();
  return world.db.resident.create({
    data: {
      municipalityId: MUNICIPALITY,
      phone,
      locale: options.locale ?? "ar",
      optedOut: options.optedOut ?? false,
      area: options.area ?? null,
      surveyJoinedAt: options.joined === false ? null : JOINED,
      surveySource: options.joined === false ? null : "keyword",
      surveyLeftAt: options.left ? new Date("2025-05-20T09:00:00Z") : null,
      identities: {
        create: [{ municipalityId: MUNICIPALITY, channel: options.channel ?? "sms", address: phone, lastInboundAt: options.lastInboundAt ?? new Date(TEN.getTime() - 86_400_000 + 3600_000) }],
      },
    },
  });
}
const residents = (n: number, options: ResidentOptions = {}) => Promise.all(Array.from({ length: n }, () => resident(options)));

const outbox = () => world.db.outbox.findMany({ include: { message: true }, orderBy: { id: "asc" } });
const invitations = () => world.db.surveyInvitation.findMany({ orderBy: { id: "asc" } });
const conversationOf = async (residentId: number) => parseState((await world.db.conversation.findUnique({ where: { residentId } }))?.state).state;
/** Outbox rows per resident: never more than one invitation per run. */
async function rowsPerResident() {
  const counts = new Map<number, number>();
  for (const row of await outbox()) counts.set(row.residentId, (counts.get(row.residentId) ?? 0) + 1);
  return counts;
}
const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000);

describe("starting a run", () => {
  it("a once survey scheduled for 10:00 starts at 10:00 and invites only residents who joined (not the one who never did, said STOP or left surveys)", async () => {
    const survey = await createSurvey();
    const amal = await resident({ locale: "ar" });
    const john = await resident({ locale: "en" });
    const never = await resident({ joined: false });
    const stopped = await resident({ optedOut: true });
    const left = await resident({ left: true });

    expect(await runSurveys(deps, minutesAfter(TEN, -1))).toMatchObject({ status: "ran", runsStarted: 0, sent: 0 });
    expect(await world.db.surveyRun.count()).toBe(0);

    expect(await runSurveys(deps, TEN)).toEqual({ status: "ran", runsStarted: 1, runsClosed: 0, sent: 2, viaTemplate: 0, deferred: 0, unreachable: 0, skipped: 0, failed: 0, resumed: 0 });
    const [run] = await world.db.surveyRun.findMany();
    expect(run).toMatchObject({ surveyId: survey.id, number: 1, scheduledFor: TEN, status: "open", closesAt: new Date(TEN.getTime() + 72 * 3600_000), lastBatchAt: TEN });
    expect(JSON.parse(run!.questions)).toEqual([expect.objectContaining({ type: "rating", text: QUESTION.text })]);
    // A once survey has no next run; it stays scheduled while its run is open.
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).toMatchObject({ status: "scheduled", nextRunAt: null });

    const invited = await invitations();
    expect(invited.map((i) => i.residentId)).toEqual([amal.id, john.id]);
    expect(invited.every((i) => i.status === "sent" && i.invitedAt?.getTime() === TEN.getTime() && i.messageId !== null)).toBe(true);
    const rows = await outbox();
    expect(rows.map((r) => r.residentId)).toEqual([amal.id, john.id]);
    expect(rows.map((r) => r.residentId)).not.toContain(never.id);
    expect(rows.map((r) => r.residentId)).not.toContain(stopped.id);
    expect(rows.map((r) => r.residentId)).not.toContain(left.id);
    expect(rows[0]).toMatchObject({ channel: "sms", toAddress: amal.phone, status: "pending", contentSid: null });
    expect(rows[0]!.body).toContain("النظافة");
    expect(rows[0]!.body).toContain(QUESTION.text.ar);
    expect(rows[1]!.body).toContain("Waste collection");
    expect(rows[1]!.body).toContain(QUESTION.text.en);
    expect(rows[1]!.message).toMatchObject({ kind: "notification", ticketId: null, status: "queued", id: invited[1]!.messageId });
    // The conversation now waits for the answer to question 1.
    expect(await conversationOf(john.id)).toMatchObject({ step: "survey", survey: { invitationId: invited[1]!.id, question: 0 } });

    // Later calls start nothing more and send nothing twice.
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ runsStarted: 0, sent: 0 });
    expect(await world.db.surveyRun.count()).toBe(0 + 1);
    expect(await outbox()).toHaveLength(2);
  });

  it("the audience filters by language and area, and the invitation keeps the resident's area", async () => {
    await createSurvey({ audience: { languages: ["en"], areas: ["Haouch"], channels: [] } });
    const inArea = await resident({ locale: "en", area: "Haouch" });
    await resident({ locale: "ar", area: "Haouch" });
    await resident({ locale: "en", area: "Centre" });
    await runSurveys(deps, TEN);
    expect(await invitations()).toEqual([expect.objectContaining({ residentId: inArea.id, area: "Haouch", locale: "en", channel: "sms" })]);
  });

  it("paused, cancelled and draft surveys start no run", async () => {
    await createSurvey({ status: "paused" });
    await createSurvey({ status: "cancelled" });
    await createSurvey({ status: "draft" });
    await resident();
    expect(await runSurveys(deps, TEN)).toMatchObject({ runsStarted: 0, sent: 0 });
  });
});

describe("pacing", () => {
  it("45 SMS residents: 30 in the first minute, the rest after", async () => {
    await createSurvey();
    await residents(45);
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 30 });
    // 20 seconds later: 30 a minute allows 10.
    expect(await runSurveys(deps, new Date(TEN.getTime() + 20_000))).toMatchObject({ sent: 10 });
    expect(await runSurveys(deps, new Date(TEN.getTime() + 80_000))).toMatchObject({ sent: 5 });
    expect(await runSurveys(deps, new Date(TEN.getTime() + 140_000))).toMatchObject({ sent: 0 });
    expect(await outbox()).toHaveLength(45);
    expect([...(await rowsPerResident()).values()].every((n) => n === 1)).toBe(true);
  });

  it("calls closer together than the pace allows still add up (the time is kept for the next call)", async () => {
    await createSurvey();
    await residents(5);
    const slow = { ...deps, smsPerMinute: 2 };
    expect(await runSurveys(slow, TEN)).toMatchObject({ sent: 2 });
    // Every 10 seconds: 2 a minute is one per 30 s, so one call in three sends one.
    const sent = [];
    for (let s = 10; s <= 60; s += 10) sent.push(((await runSurveys(slow, new Date(TEN.getTime() + s * 1000))) as { sent: number }).sent);
    expect(sent).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it("WhatsApp goes at its own pace (per second), next to SMS (per minute)", async () => {
    const paced = { ...deps, smsPerMinute: 2, whatsappPerSecond: 1 };
    await createSurvey();
    await residents(70, { channel: "whatsapp", lastInboundAt: minutesAfter(TEN, -60) });
    await residents(4);
    // The first batch: a minute's worth of each, 60 WhatsApp and 2 SMS.
    expect(await runSurveys(paced, TEN)).toMatchObject({ sent: 62 });
    // 3 seconds later: 3 WhatsApp, no SMS (2 a minute allows none in 3 s).
    expect(await runSurveys(paced, new Date(TEN.getTime() + 3000))).toMatchObject({ sent: 3 });
    expect(await runSurveys(paced, new Date(TEN.getTime() + 63_000))).toMatchObject({ sent: 7 + 2 });
    const rows = await outbox();
    expect(rows.filter((r) => r.channel === "whatsapp")).toHaveLength(70);
    expect(rows.filter((r) => r.channel === "sms")).toHaveLength(4);
    expect(rows.find((r) => r.channel === "whatsapp")!.toAddress).toMatch(/^whatsapp:\+961/);
  });

  it("a run that reaches 21:00 stops, and resumes at 08:00 the next day where it left off", async () => {
    const slow = { ...deps, smsPerMinute: 10 };
    const start = beirut(DAY, "20:59");
    await createSurvey({ nextRunAt: start });
    await residents(25);
    expect(await runSurveys(slow, start)).toMatchObject({ status: "ran", runsStarted: 1, sent: 10 });
    expect(await runSurveys(slow, beirut(DAY, "21:00"))).toEqual({ status: "quiet_hours", beirutHour: 21, runsStarted: 0, runsClosed: 0 });
    expect(await runSurveys(slow, beirut(DAY, "23:30"))).toMatchObject({ status: "quiet_hours" });
    expect(await runSurveys(slow, beirut("2025-06-11", "07:59"))).toMatchObject({ status: "quiet_hours", beirutHour: 7 });
    expect(await outbox()).toHaveLength(10);
    expect(await runSurveys(slow, beirut("2025-06-11", "08:00"))).toMatchObject({ status: "ran", sent: 10 });
    expect(await runSurveys(slow, beirut("2025-06-11", "08:01"))).toMatchObject({ sent: 5 });
    expect(await outbox()).toHaveLength(25);
    expect(await world.db.surveyInvitation.count({ where: { status: "sent" } })).toBe(25);
    const times = (await invitations()).map((i) => i.invitedAt!.getTime());
    expect(times.filter((t) => t === start.getTime())).toHaveLength(10);
    expect(times.every((t) => t === start.getTime() || t >= beirut("2025-06-11", "08:00").getTime())).toBe(true);
  });

  it("a run due during the night starts then, and its invitations wait for 08:00", async () => {
    await createSurvey({ nextRunAt: beirut(DAY, "23:00") });
    await residents(2);
    expect(await runSurveys(deps, beirut(DAY, "23:00"))).toMatchObject({ status: "quiet_hours", runsStarted: 1 });
    expect(await world.db.surveyInvitation.count({ where: { status: "pending" } })).toBe(2);
    expect(await runSurveys(deps, beirut("2025-06-11", "08:00"))).toMatchObject({ status: "ran", sent: 2 });
  });
});

describe("residents who are busy, unreachable or gone", () => {
  it("a resident in the middle of a request is deferred, and invited once the conversation is back at rest", async () => {
    await createSurvey();
    const busy = await resident();
    const free = await resident();
    const filing = { version: 1, step: "description", strikes: 0, draft: { categoryCode: "roads", media: [], childRelated: false, photoAsked: false, startedAt: minutesAfter(TEN, -5).toISOString() } };
    await world.db.conversation.create({ data: { municipalityId: MUNICIPALITY, residentId: busy.id, state: JSON.stringify(filing), stateVersion: 1 } });

    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 1, deferred: 1 });
    expect((await outbox()).map((r) => r.residentId)).toEqual([free.id]);
    expect(await world.db.surveyInvitation.findFirstOrThrow({ where: { residentId: busy.id } })).toMatchObject({ status: "pending", messageId: null });
    // Their request is untouched.
    expect(await conversationOf(busy.id)).toMatchObject({ step: "description" });

    // Still filing a minute later: still waiting.
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 0, deferred: 1 });
    // The request was filed: the conversation is back at the menu, and the invitation goes out.
    await world.db.conversation.update({ where: { residentId: busy.id }, data: { state: JSON.stringify({ version: 1, step: "menu", strikes: 0 }) } });
    expect(await runSurveys(deps, minutesAfter(TEN, 2))).toMatchObject({ sent: 1, deferred: 0 });
    expect(await conversationOf(busy.id)).toMatchObject({ step: "survey", survey: { question: 0 } });
    expect([...(await rowsPerResident()).entries()]).toEqual([
      [free.id, 1],
      [busy.id, 1],
    ]);
  });

  it("a phone the bot paused (a flood, an autoresponder) waits until the pause lifts", async () => {
    await createSurvey();
    const looping = await resident();
    await world.db.resident.update({ where: { id: looping.id }, data: { botPausedAt: minutesAfter(TEN, -3), botPauseReason: "loop" } });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 0, deferred: 1 });
    await world.db.resident.update({ where: { id: looping.id }, data: { botPausedAt: null, botPauseReason: null } });
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 1, deferred: 0 });
  });

  it("a fresh 'reply 1 to reopen' offer is given a day before the survey's first question takes the resident's '1'", async () => {
    await createSurvey();
    const r = await resident();
    await world.db.conversation.create({
      data: { municipalityId: MUNICIPALITY, residentId: r.id, state: JSON.stringify({ version: 1, step: "reopenOffer", strikes: 0, reopenReference: 10427 }), stateVersion: 1, updatedAt: minutesAfter(TEN, -30) },
    });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 0, deferred: 1 });
    await world.db.conversation.update({ where: { residentId: r.id }, data: { updatedAt: minutesAfter(TEN, -25 * 60) } });
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 1, deferred: 0 });
  });

  it("a survey paused for a pothole report is picked up again, once, after half an hour of quiet", async () => {
    await createSurvey({ questions: [QUESTION, { type: "yesno", text: { ar: "هل تفرز النفايات؟", en: "Do you sort your waste?" } }] });
    const r = await resident();
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 1 });
    const invitation = await world.db.surveyInvitation.findFirstOrThrow({ where: { residentId: r.id } });
    // They answered the first question, then reported a pothole: the survey paused, the request was filed.
    await world.db.surveyInvitation.update({ where: { id: invitation.id }, data: { nextQuestion: 1, startedAt: minutesAfter(TEN, 2), pausedAt: minutesAfter(TEN, 3) } });
    await world.db.conversation.update({ where: { residentId: r.id }, data: { state: JSON.stringify({ version: 1, step: "idle", strikes: 0 }), updatedAt: minutesAfter(TEN, 6) } });

    // Twenty minutes later they may still be busy with the town hall: nothing yet.
    expect(await runSurveys(deps, minutesAfter(TEN, 26))).toMatchObject({ resumed: 0 });
    expect(await runSurveys(deps, minutesAfter(TEN, 40))).toMatchObject({ resumed: 1 });
    const last = (await outbox()).at(-1)!;
    expect(last.residentId).toBe(r.id);
    expect(last.body).toBe("لنكمل الاستطلاع:\n2/2 هل تفرز النفايات؟\n1 نعم\n2 لا");
    expect(await conversationOf(r.id)).toMatchObject({ step: "survey", survey: { invitationId: invitation.id, question: 1 } });
    // Once: paused again, it waits for the resident's own "survey".
    await world.db.surveyInvitation.update({ where: { id: invitation.id }, data: { pausedAt: minutesAfter(TEN, 41) } });
    await world.db.conversation.update({ where: { residentId: r.id }, data: { state: JSON.stringify({ version: 1, step: "idle", strikes: 0 }), updatedAt: minutesAfter(TEN, 41) } });
    expect(await runSurveys(deps, minutesAfter(TEN, 120))).toMatchObject({ resumed: 0 });
    expect((await outbox()).filter((row) => row.residentId === r.id)).toHaveLength(2);
  });

  it("a request abandoned for over a day no longer holds the invitation", async () => {
    await createSurvey();
    const r = await resident();
    const stale = { version: 1, step: "location", strikes: 0, draft: { media: [], childRelated: false, photoAsked: false, startedAt: minutesAfter(TEN, -25 * 60).toISOString() } };
    await world.db.conversation.create({ data: { municipalityId: MUNICIPALITY, residentId: r.id, state: JSON.stringify(stale), stateVersion: 1 } });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 1, deferred: 0 });
  });

  it("a resident who says STOP or leaves surveys after the run started is skipped, never sent to", async () => {
    await createSurvey();
    const [a, b, c] = await residents(3);
    // The run starts (during the night, so nothing goes out yet) with all three invited.
    await createSurvey({ nextRunAt: beirut(DAY, "06:00") });
    await world.db.survey.deleteMany({ where: { nextRunAt: TEN } });
    expect(await runSurveys(deps, beirut(DAY, "06:00"))).toMatchObject({ status: "quiet_hours", runsStarted: 1 });
    expect(await world.db.surveyInvitation.count({ where: { status: "pending" } })).toBe(3);
    await world.db.resident.update({ where: { id: a!.id }, data: { optedOut: true } });
    await world.db.resident.update({ where: { id: b!.id }, data: { surveyLeftAt: beirut(DAY, "07:00") } });
    expect(await runSurveys(deps, beirut(DAY, "08:00"))).toMatchObject({ sent: 1, skipped: 2 });
    const byResident = Object.fromEntries((await invitations()).map((i) => [i.residentId, i]));
    expect(byResident[a!.id]).toMatchObject({ status: "skipped", reason: "opted_out" });
    expect(byResident[b!.id]).toMatchObject({ status: "skipped", reason: "left" });
    expect((await outbox()).map((r) => r.residentId)).toEqual([c!.id]);
  });

  it("WhatsApp with the 24-hour window closed and no template: not reachable, nothing sent", async () => {
    await createSurvey();
    const r = await resident({ channel: "whatsapp", lastInboundAt: minutesAfter(TEN, -25 * 60) });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 0, unreachable: 1 });
    expect(await invitations()).toEqual([expect.objectContaining({ residentId: r.id, channel: "whatsapp", status: "unreachable", reason: "window_closed" })]);
    expect(await outbox()).toHaveLength(0);
    expect(await world.db.message.count()).toBe(0);
    expect(await conversationOf(r.id)).toMatchObject({ step: "idle" });
  });

  it("WhatsApp with the window closed and a template: the template with the title in their language; questions follow when they answer", async () => {
    await createSurvey();
    const r = await resident({ channel: "whatsapp", locale: "en", lastInboundAt: minutesAfter(TEN, -3 * 24 * 60) });
    expect(await runSurveys({ ...deps, whatsappSurveyTemplateSid: TEMPLATE_SID }, TEN)).toMatchObject({ sent: 1, viaTemplate: 1 });
    const [row] = await outbox();
    expect(row).toMatchObject({ residentId: r.id, channel: "whatsapp", toAddress: `whatsapp:${r.phone}`, contentSid: TEMPLATE_SID, status: "pending" });
    expect(JSON.parse(row!.contentVariables!)).toEqual({ 1: "Waste collection" });
    expect(row!.message).toMatchObject({ kind: "template", status: "queued" });
    const [invitation] = await invitations();
    expect(invitation).toMatchObject({ status: "sent", viaTemplate: true, messageId: row!.messageId });
    expect(await conversationOf(r.id)).toMatchObject({ step: "survey", survey: { invitationId: invitation!.id, question: -1 } });
  });
});

describe("recurrence and expiry", () => {
  it("a monthly survey creates run 2 a month later, with its own invitations (a resident who joined since included)", async () => {
    const first = beirut("2025-06-01", "10:00");
    const survey = await createSurvey({ schedule: { recurrence: { kind: "monthly", day: 1, time: "10:00" } }, nextRunAt: first, expiryHours: 48 });
    const early = await resident();
    expect(await runSurveys(deps, first)).toMatchObject({ runsStarted: 1, sent: 1 });
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).toMatchObject({ nextRunAt: beirut("2025-07-01", "10:00"), status: "scheduled" });
    // She answered run 1 and her conversation still points at it; run 1 closes two days later.
    const [inv1] = await invitations();
    await world.db.surveyInvitation.update({ where: { id: inv1!.id }, data: { completedAt: minutesAfter(first, 5), nextQuestion: 1 } });
    expect(await runSurveys(deps, beirut("2025-06-03", "10:00"))).toMatchObject({ runsClosed: 1, runsStarted: 0 });
    // A recurring survey is not finished when a run closes.
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).toMatchObject({ status: "scheduled" });
    const late = await resident();

    expect(await runSurveys(deps, beirut("2025-06-30", "10:00"))).toMatchObject({ runsStarted: 0 });
    expect(await runSurveys(deps, beirut("2025-07-01", "10:00"))).toMatchObject({ runsStarted: 1, sent: 2 });
    const runs = await world.db.surveyRun.findMany({ orderBy: { number: "asc" }, include: { invitations: true } });
    expect(runs.map((r) => [r.number, r.scheduledFor.toISOString(), r.invitations.map((i) => i.residentId)])).toEqual([
      [1, first.toISOString(), [early.id]],
      [2, beirut("2025-07-01", "10:00").toISOString(), [early.id, late.id]],
    ]);
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).toMatchObject({ nextRunAt: beirut("2025-08-01", "10:00") });
    expect((await rowsPerResident()).get(early.id)).toBe(2);
    expect(await conversationOf(early.id)).toMatchObject({ step: "survey", survey: { invitationId: runs[1]!.invitations[0]!.id } });
  });

  it("after days of downtime, only the latest missed occurrence runs (no burst)", async () => {
    const survey = await createSurvey({ schedule: { recurrence: { kind: "cron", expression: "0 9 * * *" } }, nextRunAt: beirut("2025-06-01", "09:00"), expiryHours: 24 });
    await resident();
    expect(await runSurveys(deps, beirut("2025-06-05", "10:30"))).toMatchObject({ runsStarted: 1, sent: 1 });
    expect(await world.db.surveyRun.findMany()).toEqual([expect.objectContaining({ number: 1, scheduledFor: beirut("2025-06-05", "09:00") })]);
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).toMatchObject({ nextRunAt: beirut("2025-06-06", "09:00") });
  });

  it("expiry closes the run and expires the invitations that never went out; the once survey is finished", async () => {
    const survey = await createSurvey({ expiryHours: 2 });
    const busy = await resident();
    const answered = await resident();
    await world.db.conversation.create({
      data: { municipalityId: MUNICIPALITY, residentId: busy.id, state: JSON.stringify({ version: 1, step: "linkNumber", strikes: 0, account: { goal: "balance", startedAt: TEN.toISOString() } }), stateVersion: 1 },
    });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 1, deferred: 1 });
    expect(await runSurveys(deps, beirut(DAY, "11:59"))).toMatchObject({ runsClosed: 0, deferred: 1 });
    expect(await runSurveys(deps, beirut(DAY, "12:00"))).toMatchObject({ runsClosed: 1, sent: 0, deferred: 0 });
    const run = await world.db.surveyRun.findFirstOrThrow();
    expect(run).toMatchObject({ status: "closed", closedAt: beirut(DAY, "12:00") });
    const byResident = Object.fromEntries((await invitations()).map((i) => [i.residentId, i.status]));
    expect(byResident).toEqual({ [busy.id]: "expired", [answered.id]: "sent" });
    expect(await world.db.survey.findUniqueOrThrow({ where: { id: survey.id } })).toMatchObject({ status: "finished" });
    // Back at rest after the close: nothing goes out for a closed run.
    await world.db.conversation.update({ where: { residentId: busy.id }, data: { state: JSON.stringify({ version: 1, step: "idle", strikes: 0 }) } });
    expect(await runSurveys(deps, beirut(DAY, "12:01"))).toMatchObject({ sent: 0 });
    expect(await outbox()).toHaveLength(1);
  });

  it("a paused survey sends nothing until resumed; a cancelled one's run never sends", async () => {
    const survey = await createSurvey();
    await residents(70);
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 30 });
    await world.db.survey.update({ where: { id: survey.id }, data: { status: "paused" } });
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 0 });
    await world.db.survey.update({ where: { id: survey.id }, data: { status: "scheduled" } });
    expect(await runSurveys(deps, minutesAfter(TEN, 2))).toMatchObject({ sent: 30 });
    await world.db.survey.update({ where: { id: survey.id }, data: { status: "cancelled" } });
    expect(await runSurveys(deps, minutesAfter(TEN, 3))).toMatchObject({ sent: 0 });
    expect(await outbox()).toHaveLength(60);
  });
});

describe("never twice", () => {
  it("a worker that fails mid-run (rendering throws for one resident) leaves that invitation whole, and it goes out once later", async () => {
    await createSurvey();
    const everyone = await residents(5);
    const real = createI18n();
    let calls = 0;
    // The third invitation's first text blows up, after its compare-and-set: the whole transaction must roll back.
    const failing = Object.create(real) as i18n;
    failing.t = ((...args: Parameters<i18n["t"]>) => {
      calls++;
      if (calls === 5) throw new Error("simulated crash while queueing");
      return real.t(...args);
    }) as i18n["t"];
    const result = await runSurveys({ ...deps, i18n: failing }, TEN);
    expect(result).toMatchObject({ sent: 4, failed: 1 });
    const pending = await world.db.surveyInvitation.findMany({ where: { status: "pending" } });
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ messageId: null, invitedAt: null });
    expect(await world.db.message.count({ where: { residentId: pending[0]!.residentId } })).toBe(0);
    expect(await conversationOf(pending[0]!.residentId)).toMatchObject({ step: "idle" });

    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 1, failed: 0 });
    const counts = await rowsPerResident();
    expect(everyone.map((r) => counts.get(r.id))).toEqual([1, 1, 1, 1, 1]);
  });

  it("two workers sending the same run at once (a lease that ran out) send each invitation once", async () => {
    await createSurvey();
    const everyone = await residents(12);
    await runSurveys({ ...deps, smsPerMinute: 1 }, TEN);
    const [a, b] = await Promise.all([sendInvitations(deps, minutesAfter(TEN, 1)), sendInvitations(deps, minutesAfter(TEN, 1))]);
    expect(a.sent + b.sent).toBe(11);
    const counts = await rowsPerResident();
    expect(everyone.map((r) => counts.get(r.id))).toEqual(everyone.map(() => 1));
    expect(await world.db.surveyInvitation.count({ where: { status: "sent" } })).toBe(12);
  });

  it("two instances calling the job at once: one works, the other is busy", async () => {
    await createSurvey();
    await residents(6);
    const results = await Promise.all([runSurveys({ ...deps, holder: "instance-a" }, TEN), runSurveys({ ...deps, holder: "instance-b" }, TEN)]);
    expect(results.map((r) => r.status).sort()).toEqual(["busy", "ran"]);
    expect(results.find((r) => r.status === "ran")).toMatchObject({ runsStarted: 1, sent: 6 });
    expect(await world.db.surveyRun.count()).toBe(1);
    expect(await outbox()).toHaveLength(6);
    // The lease is released: the next minute either may run.
    expect(await runSurveys({ ...deps, holder: "instance-b" }, minutesAfter(TEN, 1))).toMatchObject({ status: "ran" });
  });

  it("a second instance starting the same occurrence writes nothing (the run's unique occurrence)", async () => {
    const survey = await createSurvey();
    await residents(3);
    const { startDueRuns } = await import("../../src/services/surveys/runs.js");
    const [a, b] = await Promise.all([startDueRuns(world.db, MUNICIPALITY, TEN), startDueRuns(world.db, MUNICIPALITY, TEN)]);
    expect(a.length + b.length).toBe(1);
    expect(await world.db.surveyRun.count({ where: { surveyId: survey.id } })).toBe(1);
    expect(await world.db.surveyInvitation.count()).toBe(3);
  });
});
