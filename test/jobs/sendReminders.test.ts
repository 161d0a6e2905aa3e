import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/conversation/types.js";
import { beirutDay, beirutHour, sendReminders, type SendRemindersDeps } from "../../src/jobs/sendReminders.js";
import { smsCost } from "../../src/lib/smsSegments.js";
import { createAccount, createResident, daysAfter, linkByCode } from "../http/staff/accountFixtures.js";
import { newPhone, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

let world: World;
let deps: SendRemindersDeps;
beforeAll(async () => {
  world = await createTestWorld();
  deps = { db: world.db, municipalityId: MUNICIPALITY, daysBefore: 7, digits: "western", outbox: world.deps.outbox, logger: pino({ level: "silent" }) };
}, 60_000);
afterAll(async () => {
  await world.drop();
});
// Every test starts from a town with no accounts and nothing sent.
beforeEach(async () => {
  await world.db.account.deleteMany();
  await world.db.reminderSent.deleteMany();
  await world.db.auditEvent.deleteMany();
  await world.db.resident.deleteMany();
  await world.db.jobLease.deleteMany();
});

// 10:00 in Beirut on Thursday 20 March 2025 (winter time, UTC+2); the 31st is 11 days later.
const MORNING = new Date("2025-03-20T08:00:00Z");
let numbers = 0;

/** An account owing `amountDue` on a day `inDays` after MORNING, linked to one resident. */
async function owing(options: { inDays?: number; amountDue?: string; currency?: "LBP" | "USD"; locale?: "ar" | "en" | null; optedOut?: boolean; identities?: Array<{ channel: "sms" | "whatsapp"; lastInboundAt: Date | null }>; number?: string } = {}) {
  const account = await createAccount(world.db, {
    number: options.number ?? `QE-${String(++numbers).padStart(6, "0")}`,
    balances: [{ currency: options.currency ?? "LBP", amountDue: options.amountDue ?? "1250000", dueDate: daysAfter(MORNING, options.inDays ?? 5) }],
  });
  const phone = newPhone();
  const resident = await createResident(world.db, {
    phone,
    locale: options.locale === undefined ? "ar" : options.locale,
    optedOut: options.optedOut ?? false,
    ...(options.identities ? { identities: options.identities } : {}),
  });
  await linkByCode(world.db, account.id, resident.id);
  return { account, resident, phone };
}
const outbox = () => world.db.outbox.findMany({ include: { message: true }, orderBy: { id: "asc" } });

describe("due-date reminders", () => {
  it("remind a linked resident once per due date, in Arabic, by SMS, and record the disclosure", async () => {
    const { account, resident, phone } = await owing();
    expect(await sendReminders(deps, MORNING)).toEqual({ status: "ran", queued: 1, more: false });
    const [row] = await outbox();
    expect(row).toMatchObject({ residentId: resident.id, channel: "sms", toAddress: phone, status: "pending" });
    expect(row!.body).toBe(`تذكير: على حسابك ${account.number} مبلغ 1,250,000 ل.ل. يستحق في 25/03`);
    expect(row!.message).toMatchObject({ kind: "notification", ticketId: null, status: "queued" });
    expect(await world.db.reminderSent.findMany()).toEqual([expect.objectContaining({ accountId: account.id, residentId: resident.id, currency: "LBP", dueDate: daysAfter(MORNING, 5) })]);
    const audit = await world.db.auditEvent.findMany({ where: { accountId: account.id } });
    expect(audit).toEqual([expect.objectContaining({ kind: "reminder_sent", actorType: "system", residentId: resident.id })]);

    // Later runs that day, and the next day, send nothing more.
    expect(await sendReminders(deps, new Date(MORNING.getTime() + 15 * 60_000))).toEqual({ status: "ran", queued: 0, more: false });
    expect(await sendReminders(deps, new Date(MORNING.getTime() + 86_400_000))).toMatchObject({ queued: 0 });
    expect(await outbox()).toHaveLength(1);

    // Next year's bill has a new due date: that one is reminded too.
    await world.db.accountBalance.updateMany({ where: { accountId: account.id }, data: { dueDate: daysAfter(MORNING, 6) } });
    expect(await sendReminders(deps, MORNING)).toMatchObject({ queued: 1 });
  });

  it("speaks English to English speakers, and reminds each currency of an account separately", async () => {
    const { account, resident } = await owing({ locale: "en" });
    await world.db.accountBalance.create({ data: { accountId: account.id, currency: "USD", amountDue: "85.5", dueDate: daysAfter(MORNING, 2) } });
    expect(await sendReminders(deps, MORNING)).toMatchObject({ queued: 2 });
    const bodies = (await outbox()).map((r) => r.body);
    // The nearest due date first.
    expect(bodies).toEqual([
      `Reminder: account ${account.number} owes 85.50 USD, due 22/03. Reply BALANCE for details.`,
      `Reminder: account ${account.number} owes 1,250,000 LBP, due 25/03. Reply BALANCE for details.`,
    ]);
    expect(await world.db.reminderSent.count({ where: { residentId: resident.id } })).toBe(2);
  });

  it("a resident whose language is not known yet is reminded in Arabic; Arabic-Indic digits when configured", async () => {
    const { account } = await owing({ locale: null });
    await sendReminders({ ...deps, digits: "arabic" }, MORNING);
    expect((await outbox())[0]!.body).toBe(`تذكير: على حسابك ${account.number} مبلغ ١٬٢٥٠٬٠٠٠ ل.ل. يستحق في ٢٥/٠٣`);
  });

  it("never reminds an opted-out resident, and remembers nothing for them", async () => {
    await owing({ optedOut: true });
    expect(await sendReminders(deps, MORNING)).toMatchObject({ queued: 0 });
    expect(await world.db.message.count()).toBe(0);
    expect(await world.db.reminderSent.count()).toBe(0);
  });

  it("every phone linked to an account is reminded (a family), except the one that said STOP", async () => {
    const { account } = await owing();
    const sister = await createResident(world.db, { phone: newPhone(), locale: "en" });
    const stopped = await createResident(world.db, { phone: newPhone(), optedOut: true });
    await linkByCode(world.db, account.id, sister.id);
    await linkByCode(world.db, account.id, stopped.id);
    expect(await sendReminders(deps, MORNING)).toMatchObject({ queued: 2 });
    expect((await outbox()).map((r) => r.residentId)).not.toContain(stopped.id);
  });

  it.each([
    ["yesterday (past due)", { inDays: -1 }, 0],
    ["today", { inDays: 0 }, 1],
    ["in exactly 7 days", { inDays: 7 }, 1],
    ["in 8 days (too early)", { inDays: 8 }, 0],
    ["nothing owed", { amountDue: "0" }, 0],
    ["a credit", { amountDue: "-50000" }, 0],
  ] as const)("a balance due %s: %i reminder(s)", async (_label, options, expected) => {
    await owing(options);
    expect(await sendReminders(deps, MORNING)).toMatchObject({ queued: expected });
  });

  it("a due date stored at Beirut midnight counts as that Beirut day", async () => {
    const { account } = await owing();
    // 25 March 00:00 in Beirut (UTC+2) is 24 March 22:00 UTC.
    await world.db.accountBalance.updateMany({ where: { accountId: account.id }, data: { dueDate: new Date("2025-03-24T22:00:00Z") } });
    await sendReminders(deps, MORNING);
    expect((await outbox())[0]!.body).toContain("يستحق في 25/03");
  });

  it("is paced: at most batchSize reminders per run, the rest in the following runs", async () => {
    for (let i = 0; i < 7; i++) await owing();
    const paced = { ...deps, batchSize: 3 };
    expect(await sendReminders(paced, MORNING)).toEqual({ status: "ran", queued: 3, more: true });
    expect(await sendReminders(paced, MORNING)).toEqual({ status: "ran", queued: 3, more: true });
    expect(await sendReminders(paced, MORNING)).toEqual({ status: "ran", queued: 1, more: false });
    expect(await world.db.outbox.count()).toBe(7);
    expect(await world.db.reminderSent.count()).toBe(7);
  });

  it("two instances running at once send each reminder once", async () => {
    for (let i = 0; i < 4; i++) await owing();
    const runs = await Promise.all([sendReminders({ ...deps, holder: "web-1" }, MORNING), sendReminders({ ...deps, holder: "web-2" }, MORNING)]);
    expect(runs.reduce((sum, r) => sum + (r.status === "ran" ? r.queued : 0), 0)).toBe(4);
    expect(await world.db.outbox.count()).toBe(4);
  });

  it("while another instance holds the job's lease, a run does nothing; an expired lease is taken over", async () => {
    await owing();
    await world.db.jobLease.create({ data: { name: "send-reminders", holder: "web-2", expiresAt: new Date(MORNING.getTime() + 60_000) } });
    expect(await sendReminders({ ...deps, holder: "web-1" }, MORNING)).toEqual({ status: "busy" });
    expect(await world.db.outbox.count()).toBe(0);
    const later = new Date(MORNING.getTime() + 5 * 60_000);
    expect(await sendReminders({ ...deps, holder: "web-1" }, later)).toMatchObject({ status: "ran", queued: 1 });
    expect(await world.db.jobLease.count()).toBe(0); // released after the run
  });

  it("a reminder another run already recorded is never sent again, lease or not", async () => {
    const { account, resident } = await owing();
    await world.db.reminderSent.create({ data: { accountId: account.id, residentId: resident.id, currency: "LBP", dueDate: daysAfter(MORNING, 5) } });
    expect(await sendReminders(deps, MORNING)).toMatchObject({ queued: 0 });
    expect(await world.db.outbox.count()).toBe(0);
  });
});

describe("quiet hours (Beirut time, daylight saving included)", () => {
  // Winter: Beirut is UTC+2. Summer (from the last Sunday of March): UTC+3.
  it.each([
    ["22:00 in winter", "2025-01-20T20:00:00Z", false],
    ["07:30 in winter", "2025-01-20T05:30:00Z", false],
    ["08:00 in winter", "2025-01-20T06:00:00Z", true],
    ["20:59 in winter", "2025-01-20T18:59:00Z", true],
    ["21:00 in winter", "2025-01-20T19:00:00Z", false],
    ["22:00 in summer", "2025-07-20T19:00:00Z", false],
    ["07:30 in summer", "2025-07-20T04:30:00Z", false],
    ["08:00 in summer", "2025-07-20T05:00:00Z", true],
    ["08:30 in summer (07:30 on winter time)", "2025-07-20T05:30:00Z", true],
    ["20:59 in summer", "2025-07-20T17:59:00Z", true],
    ["21:30 in summer (20:30 on winter time)", "2025-07-20T18:30:00Z", false],
  ])("at %s (%s) reminders go out: %s", async (_label, instant, allowed) => {
    const now = new Date(instant);
    const account = await createAccount(world.db, { number: `QE-Q${++numbers}`, balances: [{ currency: "LBP", amountDue: "900000", dueDate: daysAfter(now, 3) }] });
    const resident = await createResident(world.db, { phone: newPhone() });
    await linkByCode(world.db, account.id, resident.id);
    const run = await sendReminders(deps, now);
    if (allowed) expect(run).toEqual({ status: "ran", queued: 1, more: false });
    else expect(run).toMatchObject({ status: "quiet_hours" });
    expect(await world.db.outbox.count()).toBe(allowed ? 1 : 0);
  });

  it("reads Beirut's clock and calendar across the spring change (last Sunday of March, 00:00 → 01:00)", () => {
    expect(beirutHour(new Date("2025-03-29T21:30:00Z"))).toBe(23); // Saturday, UTC+2
    expect(beirutHour(new Date("2025-03-29T22:30:00Z"))).toBe(1); // Sunday, now UTC+3
    expect(beirutDay(new Date("2025-03-29T22:30:00Z"))).toBe("2025-03-30");
    expect(beirutDay(new Date("2025-07-20T21:30:00Z"))).toBe("2025-07-21");
  });
});

describe("the channel a reminder takes", () => {
  const hoursAgo = (h: number) => new Date(MORNING.getTime() - h * 3600_000);
  it.each([
    ["wrote on WhatsApp two hours ago", [{ channel: "sms", lastInboundAt: hoursAgo(72) }, { channel: "whatsapp", lastInboundAt: hoursAgo(2) }], "whatsapp"],
    ["wrote by SMS last, WhatsApp before", [{ channel: "whatsapp", lastInboundAt: hoursAgo(20) }, { channel: "sms", lastInboundAt: hoursAgo(1) }], "sms"],
    ["last wrote on WhatsApp three days ago (window closed: SMS, not a held message)", [{ channel: "whatsapp", lastInboundAt: hoursAgo(72) }], "sms"],
    ["never wrote (linked at the counter)", [], "sms"],
  ] as const)("a resident who %s gets it by %s", async (_label, identities, channel) => {
    await owing({ identities: [...identities] });
    await sendReminders({ ...deps, outbox: { ...deps.outbox, whatsappTemplateSid: `HX${"0".repeat(32)}` } }, MORNING);
    const rows = await outbox();
    expect(rows.map((r) => [r.channel, r.status])).toEqual([[channel, "pending"]]);
  });
});

describe("SMS cost of a reminder", () => {
  const worst = {
    ar: { account: "QE-2025-00123", amount: "125,000,000 ل.ل.", date: "31/12" },
    en: { account: "QE-2025-00123", amount: "125,000,000 LBP", date: "31/12" },
  };
  it.each(LOCALES)("%s fits one segment with a long account number and a nine-digit amount", (locale) => {
    const text = world.deps.outbox.render("reminder", worst[locale], locale, "sms");
    expect(text).not.toContain("{{");
    expect(smsCost(text).segments, text).toBe(1);
    const indic = world.deps.outbox.render("reminder", { account: "QE-2025-00123", amount: "١٢٥٬٠٠٠٬٠٠٠ ل.ل.", date: "٣١/١٢" }, "ar", "sms");
    expect(smsCost(indic).segments, indic).toBe(1);
  });
});
