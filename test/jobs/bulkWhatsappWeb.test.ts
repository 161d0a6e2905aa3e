import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Route } from "../../src/channels/routes.js";
import { runSurveys, type RunSurveysDeps } from "../../src/jobs/runSurveys.js";
import { sendReminders, type SendRemindersDeps } from "../../src/jobs/sendReminders.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import type { OutboxContext } from "../../src/services/outbox.js";
import { surveyColumns, SurveyInputSchema } from "../../src/services/surveys/definition.js";
import { beirutInstant } from "../../src/services/surveys/recurrence.js";
import { createAccount, daysAfter, linkByCode } from "../http/staff/accountFixtures.js";
import { newPhone, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

// Reminders and survey invitations are the town's own initiative, sent in bulk. Through the town's
// own WhatsApp phone (whatsapp-web.js, an unofficial client) only with WHATSAPP_WEB_BULK; otherwise
// such residents get them by SMS, or not at all when no SMS reaches them.

const HOUR = 3600_000;
const SURVEY_TEMPLATE = `HX${"b".repeat(32)}`;

let world: World;
beforeAll(async () => {
  world = await createTestWorld();
}, 60_000);
afterAll(async () => {
  await world.drop();
});
beforeEach(async () => {
  await world.db.account.deleteMany();
  await world.db.reminderSent.deleteMany();
  await world.db.auditEvent.deleteMany();
  await world.db.survey.deleteMany();
  await world.db.resident.deleteMany();
  await world.db.jobLease.deleteMany();
});

let lids = 0;
interface Who {
  /** The route of their WhatsApp identity. */
  route: Route;
  /** Hours since they last wrote on WhatsApp. */
  wroteHoursAgo: number;
  /** A sender WhatsApp hid the number of. */
  lid?: boolean;
}

async function whatsappResident(who: Who, at: Date, extra: { surveyJoinedAt?: Date } = {}) {
  const phone = who.lid ? `lid:${String(9_000_000_000 + ++lids)}` : newPhone();
  return world.db.resident.create({
    data: {
      municipalityId: MUNICIPALITY,
      phone,
      locale: "en",
      ...(extra.surveyJoinedAt ? { surveyJoinedAt: extra.surveyJoinedAt, surveySource: "keyword" } : {}),
      identities: { create: [{ municipalityId: MUNICIPALITY, channel: "whatsapp", address: phone, route: who.route, lastInboundAt: new Date(at.getTime() - who.wroteHoursAgo * HOUR) }] },
    },
  });
}

const outbox = () => world.db.outbox.findMany({ include: { message: true }, orderBy: { id: "asc" } });

describe("due-date reminders", () => {
  // 10:00 in Beirut.
  const MORNING = new Date("2025-03-20T08:00:00Z");
  const remindersWith = (outboxContext: Partial<OutboxContext>): SendRemindersDeps => ({
    db: world.db,
    municipalityId: MUNICIPALITY,
    daysBefore: 7,
    digits: "western",
    outbox: { ...world.deps.outbox, ...outboxContext },
    logger: pino({ level: "silent" }),
  });
  async function owing(who: Who) {
    const account = await createAccount(world.db, { number: `QE-${newPhone().slice(-6)}`, balances: [{ currency: "LBP", amountDue: "1250000", dueDate: daysAfter(MORNING, 5) }] });
    const resident = await whatsappResident(who, MORNING);
    await linkByCode(world.db, account.id, resident.id);
    return resident;
  }

  it.each([
    { who: { route: "whatsapp-web", wroteHoursAgo: 48 }, bulk: false, expected: { channel: "sms", route: "twilio", status: "pending" } },
    { who: { route: "whatsapp-web", wroteHoursAgo: 1 }, bulk: false, expected: { channel: "sms", route: "twilio", status: "pending" } },
    { who: { route: "whatsapp-web", wroteHoursAgo: 48 }, bulk: true, expected: { channel: "whatsapp", route: "whatsapp-web", status: "pending" } },
    { who: { route: "whatsapp-web", wroteHoursAgo: 48, lid: true }, bulk: true, expected: { channel: "whatsapp", route: "whatsapp-web", status: "pending" } },
    // Twilio's WhatsApp as before: within the window by WhatsApp, after it by SMS, whatever WHATSAPP_WEB_BULK says.
    { who: { route: "twilio", wroteHoursAgo: 1 }, bulk: true, expected: { channel: "whatsapp", route: "twilio", status: "pending" } },
    { who: { route: "twilio", wroteHoursAgo: 48 }, bulk: true, expected: { channel: "sms", route: "twilio", status: "pending" } },
  ] as const)("last wrote by $who.route $who.wroteHoursAgo h ago (lid: $who.lid), WHATSAPP_WEB_BULK $bulk → $expected.channel by $expected.route", async ({ who, bulk, expected }) => {
    const resident = await owing(who);
    expect(await sendReminders(remindersWith({ whatsappWebBulk: bulk }), MORNING)).toEqual({ status: "ran", queued: 1, more: false });
    const [row] = await outbox();
    expect(row).toMatchObject({ residentId: resident.id, ...expected, toAddress: expected.channel === "whatsapp" ? `whatsapp:${resident.phone}` : resident.phone, contentSid: null });
    expect(row!.message).toMatchObject({ status: "queued", kind: "notification" });
  });

  it.each([
    { case: "a sender WhatsApp hid the number of", who: { route: "whatsapp-web", wroteHoursAgo: 1, lid: true }, smsRoutes: undefined },
    { case: "a town with no SMS route", who: { route: "whatsapp-web", wroteHoursAgo: 1 }, smsRoutes: [] },
  ] as const)("without WHATSAPP_WEB_BULK, a resident of the town's phone whom no SMS reaches is skipped ($case), and looked at again next time", async ({ who, smsRoutes }) => {
    await owing(who);
    const deps = remindersWith({ whatsappWebBulk: false, smsRoutes });
    expect(await sendReminders(deps, MORNING)).toEqual({ status: "ran", queued: 0, more: false });
    expect(await outbox()).toEqual([]);
    expect(await world.db.reminderSent.count()).toBe(0);
    // Once bulk sending is allowed, the next run reminds them there.
    expect(await sendReminders({ ...deps, outbox: { ...deps.outbox, whatsappWebBulk: true } }, new Date(MORNING.getTime() + 15 * 60_000))).toMatchObject({ queued: 1 });
    expect(await outbox()).toEqual([expect.objectContaining({ channel: "whatsapp", route: "whatsapp-web" })]);
  });

  it("a town where the town's phone is not enabled (any more): Twilio's window decides, as before", async () => {
    await owing({ route: "whatsapp-web", wroteHoursAgo: 48 });
    expect(await sendReminders(remindersWith({ whatsappWebBulk: true, whatsappRoutes: ["twilio"] }), MORNING)).toMatchObject({ queued: 1 });
    expect(await outbox()).toEqual([expect.objectContaining({ channel: "sms", route: "twilio" })]);
  });
});

describe("survey invitations", () => {
  const beirut = (day: string, hh: number, mm = 0) => {
    const [y, m, d] = day.split("-").map(Number) as [number, number, number];
    return beirutInstant(y, m, d, hh, mm);
  };
  const TEN = beirut("2025-06-10", 10);
  const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000);
  const QUESTIONS = [
    { type: "rating", text: { ar: "ما رأيك بجمع النفايات؟", en: "How satisfied are you with waste collection?" }, min: 1, max: 5 },
    { type: "yesno", text: { ar: "هل تفرز النفايات؟", en: "Do you sort your waste?" } },
  ] as const;
  const surveysWith = (outboxContext: Partial<OutboxContext>, extra: Partial<RunSurveysDeps> = {}): RunSurveysDeps => ({
    db: world.db,
    dialect: world.dialect,
    municipalityId: MUNICIPALITY,
    i18n: createI18n(),
    outbox: { ...world.deps.outbox, ...outboxContext },
    smsPerMinute: 30,
    whatsappPerSecond: 20,
    whatsappSurveyTemplateSid: SURVEY_TEMPLATE,
    logger: pino({ level: "silent" }),
    holder: "test",
    ...extra,
  });
  async function createSurvey() {
    const parsed = SurveyInputSchema.parse({ title: { ar: "النظافة", en: "Waste collection" }, questions: QUESTIONS });
    return world.db.survey.create({ data: { municipalityId: MUNICIPALITY, ...surveyColumns(parsed), status: "scheduled", nextRunAt: TEN, confirmedSegments: 0 } });
  }
  const member = (who: Who) => whatsappResident(who, TEN, { surveyJoinedAt: new Date("2025-05-01T09:00:00Z") });
  const invitationOf = (residentId: number) => world.db.surveyInvitation.findFirstOrThrow({ where: { residentId } });

  it("without WHATSAPP_WEB_BULK, a resident of the town's phone is invited by SMS; the invitation says so", async () => {
    await createSurvey();
    const r = await member({ route: "whatsapp-web", wroteHoursAgo: 48 });
    expect(await runSurveys(surveysWith({ whatsappWebBulk: false }), TEN)).toMatchObject({ status: "ran", sent: 1, viaTemplate: 0, unreachable: 0 });
    const [row] = await outbox();
    expect(row).toMatchObject({ residentId: r.id, channel: "sms", route: "twilio", toAddress: r.phone, contentSid: null, status: "pending" });
    expect(row!.body).toContain("Waste collection");
    expect(await invitationOf(r.id)).toMatchObject({ status: "sent", channel: "sms", viaTemplate: false, messageId: row!.messageId });
  });

  it("with WHATSAPP_WEB_BULK, on the town's phone whenever they last wrote: no window, no template", async () => {
    await createSurvey();
    const r = await member({ route: "whatsapp-web", wroteHoursAgo: 48 });
    expect(await runSurveys(surveysWith({ whatsappWebBulk: true }), TEN)).toMatchObject({ sent: 1, viaTemplate: 0 });
    expect(await outbox()).toEqual([expect.objectContaining({ channel: "whatsapp", route: "whatsapp-web", toAddress: `whatsapp:${r.phone}`, contentSid: null, status: "pending" })]);
    expect(await invitationOf(r.id)).toMatchObject({ status: "sent", channel: "whatsapp", viaTemplate: false });
  });

  it("with WHATSAPP_WEB_BULK, invitations through the town's phone keep to their share of its pace: conversations are not queued behind a survey", async () => {
    await createSurvey();
    for (let i = 0; i < 5; i++) await member({ route: "whatsapp-web", wroteHoursAgo: 2 });
    const deps = surveysWith({ whatsappWebBulk: true }, { whatsappWebPerMinute: 2 });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 2, deferred: 3 });
    expect(await outbox()).toHaveLength(2);
    // A minute later, two more; Twilio's 20 a second would have queued all five at once.
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 2 });
    expect(await outbox()).toHaveLength(4);
  });

  it("Twilio's WhatsApp as before: a closed window gets the survey template", async () => {
    await createSurvey();
    const r = await member({ route: "twilio", wroteHoursAgo: 48 });
    expect(await runSurveys(surveysWith({ whatsappWebBulk: false }), TEN)).toMatchObject({ sent: 1, viaTemplate: 1 });
    expect(await outbox()).toEqual([expect.objectContaining({ channel: "whatsapp", route: "twilio", contentSid: SURVEY_TEMPLATE })]);
    expect(await invitationOf(r.id)).toMatchObject({ channel: "whatsapp", viaTemplate: true });
  });

  it("without WHATSAPP_WEB_BULK, a sender WhatsApp hid the number of is unreachable; with it, invited on the town's phone", async () => {
    await createSurvey();
    const hidden = await member({ route: "whatsapp-web", wroteHoursAgo: 1, lid: true });
    expect(await runSurveys(surveysWith({ whatsappWebBulk: false }), TEN)).toMatchObject({ sent: 0, unreachable: 1 });
    expect(await outbox()).toEqual([]);
    expect(await invitationOf(hidden.id)).toMatchObject({ status: "unreachable", reason: "whatsapp_web_bulk" });

    await world.db.survey.deleteMany();
    await createSurvey();
    expect(await runSurveys(surveysWith({ whatsappWebBulk: true }), TEN)).toMatchObject({ sent: 1 });
    expect(await outbox()).toEqual([expect.objectContaining({ channel: "whatsapp", route: "whatsapp-web", toAddress: `whatsapp:${hidden.phone}` })]);
  });

  it("invitations moved to SMS keep to the SMS pace", async () => {
    await createSurvey();
    const [first, second] = [await member({ route: "whatsapp-web", wroteHoursAgo: 1 }), await member({ route: "whatsapp-web", wroteHoursAgo: 1 })];
    const deps = surveysWith({ whatsappWebBulk: false }, { smsPerMinute: 1 });
    expect(await runSurveys(deps, TEN)).toMatchObject({ sent: 1, deferred: 1 });
    expect((await outbox()).map((r) => [r.residentId, r.channel])).toEqual([[first.id, "sms"]]);
    expect(await runSurveys(deps, minutesAfter(TEN, 1))).toMatchObject({ sent: 1, deferred: 0 });
    expect((await outbox()).map((r) => [r.residentId, r.channel])).toEqual([
      [first.id, "sms"],
      [second.id, "sms"],
    ]);
  });

  it.each([
    // Within the hour: Twilio's window would be open, but the job starts this message: bulk.
    { bulk: false, minutesLater: 40, resumed: 0 },
    // Two days later: the town's phone has no window.
    { bulk: true, minutesLater: 48 * 60, resumed: 1 },
  ])("a paused survey on the town's phone is picked up again by the job only with WHATSAPP_WEB_BULK (bulk: $bulk, $minutesLater min later)", async ({ bulk, minutesLater, resumed }) => {
    await createSurvey();
    const r = await member({ route: "whatsapp-web", wroteHoursAgo: 1 });
    // Invited on the town's phone (bulk allowed then), they answered the first question, then turned to a pothole.
    expect(await runSurveys(surveysWith({ whatsappWebBulk: true }), TEN)).toMatchObject({ sent: 1 });
    const invitation = await invitationOf(r.id);
    await world.db.surveyInvitation.update({ where: { id: invitation.id }, data: { nextQuestion: 1, startedAt: minutesAfter(TEN, 2), pausedAt: minutesAfter(TEN, 3) } });
    await world.db.conversation.update({ where: { residentId: r.id }, data: { state: JSON.stringify({ version: 1, step: "idle", strikes: 0 }), updatedAt: minutesAfter(TEN, 6) } });
    const later = minutesAfter(TEN, minutesLater);
    expect(await runSurveys(surveysWith({ whatsappWebBulk: bulk }), later)).toMatchObject({ resumed });
    const rows = (await outbox()).filter((row) => row.residentId === r.id);
    expect(rows).toHaveLength(1 + resumed);
    if (resumed) expect(rows.at(-1)).toMatchObject({ channel: "whatsapp", route: "whatsapp-web", status: "pending" });
  });
});
