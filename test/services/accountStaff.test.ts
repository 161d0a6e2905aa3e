import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/conversation/types.js";
import { smsCost } from "../../src/lib/smsSegments.js";
import { confirmPayment, linkAccountByStaff, rejectPayment, REJECTION_REASONS, unlinkAccount, type PaymentContext } from "../../src/services/accountStaff.js";
import type { Actor } from "../../src/services/staff.js";
import { createAccount, createResident, linkByCode, reportPayment } from "../http/staff/accountFixtures.js";
import { newPhone, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

let world: World;
let admin: Actor;
let finance: Actor;
let roads: Actor;
const NOW = new Date("2025-03-20T09:30:00Z");
const DUE = new Date("2025-03-31T00:00:00Z");

beforeAll(async () => {
  world = await createTestWorld();
  admin = await staffMember(world, { username: "hala", role: "admin" });
  finance = await staffMember(world, { username: "nadim", departments: ["finance"] });
  roads = await staffMember(world, { username: "rania", departments: ["public_works"] });
}, 60_000);
afterAll(async () => {
  await world.drop();
});

const ctx = (digits?: "western" | "arabic"): PaymentContext => ({ ...world.deps.outbox, now: NOW, digits });
const inTx = <T>(run: (tx: Parameters<Parameters<World["db"]["$transaction"]>[0]>[0]) => Promise<T>) => world.db.$transaction(run);
let accountCounter = 0;
const newAccountNumber = () => `QE-${String(++accountCounter).padStart(6, "0")}`;

/** An account owing 3,750,000 LBP (and 150 USD), its holder linked by code, and a reported payment of 1,250,000 LBP. */
async function reportedPayment(options: { locale?: "ar" | "en"; optedOut?: boolean; amount?: string; currency?: "LBP" | "USD"; channel?: "sms" | "whatsapp" } = {}) {
  const account = await createAccount(world.db, {
    number: newAccountNumber(),
    balances: [
      { currency: "LBP", amountDue: "3750000", dueDate: DUE },
      { currency: "USD", amountDue: "150", dueDate: DUE },
    ],
  });
  const phone = newPhone();
  const resident = await createResident(world.db, { phone, locale: options.locale ?? "ar", optedOut: options.optedOut ?? false });
  await linkByCode(world.db, account.id, resident.id);
  const payment = await reportPayment(world.db, {
    residentId: resident.id,
    accountId: account.id,
    amount: options.amount ?? "1250000",
    currency: options.currency ?? "LBP",
    channel: options.channel ?? "sms",
    locale: options.locale ?? "ar",
  });
  return { account, resident, phone, ...payment };
}

const balanceOf = async (accountId: number, currency: string) =>
  (await world.db.accountBalance.findUniqueOrThrow({ where: { accountId_currency: { accountId, currency } } })).amountDue.toString();
const outboxOf = (residentId: number) => world.db.outbox.findMany({ where: { residentId }, include: { message: true }, orderBy: { id: "asc" } });
const auditOf = (accountId: number) => world.db.auditEvent.findMany({ where: { accountId }, orderBy: { id: "asc" } });

describe("an admin links a phone at the counter", () => {
  it("after the ID check, a phone that never wrote becomes a resident, linked by staff and audited", async () => {
    const account = await createAccount(world.db, { number: newAccountNumber() });
    const result = await inTx((tx) => linkAccountByStaff(tx, admin, { accountNumber: account.number, phone: "03 123 456", locale: "en" }, NOW));
    expect(result).toMatchObject({ ok: true, phone: "+9613123456", alreadyLinked: false, newResident: true });
    const resident = await world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone: "+9613123456" } } });
    expect(resident.locale).toBe("en");
    const links = await world.db.accountLink.findMany({ where: { accountId: account.id } });
    expect(links).toEqual([expect.objectContaining({ residentId: resident.id, linkedBy: "staff", staffId: admin.id })]);
    const [event] = await auditOf(account.id);
    expect(event).toMatchObject({ kind: "account_linked", actorType: "staff", actorId: admin.id, residentId: resident.id, createdAt: NOW });
    expect(JSON.parse(event!.data)).toMatchObject({ linkedBy: "staff", idChecked: true });
  });

  it("linking the same phone again changes nothing; a resident's own language is kept", async () => {
    const account = await createAccount(world.db, { number: newAccountNumber() });
    const phone = newPhone();
    await createResident(world.db, { phone, locale: "ar" });
    const first = await inTx((tx) => linkAccountByStaff(tx, admin, { accountNumber: account.number, phone, locale: "en" }, NOW));
    const again = await inTx((tx) => linkAccountByStaff(tx, admin, { accountNumber: ` ${account.number} `, phone: phone.replace("+961", "0"), locale: "en" }, NOW));
    expect(first).toMatchObject({ ok: true, alreadyLinked: false, newResident: false });
    expect(again).toMatchObject({ ok: true, alreadyLinked: true });
    expect(await world.db.accountLink.count({ where: { accountId: account.id } })).toBe(1);
    expect(await world.db.auditEvent.count({ where: { accountId: account.id } })).toBe(1);
    expect((await world.db.resident.findFirstOrThrow({ where: { phone } })).locale).toBe("ar");
  });

  it.each([
    ["a finance agent", () => finance, "forbidden"],
    ["an agent of another department", () => roads, "forbidden"],
  ] as const)("%s cannot link", async (_who, actor, error) => {
    const account = await createAccount(world.db, { number: newAccountNumber() });
    const result = await inTx((tx) => linkAccountByStaff(tx, actor(), { accountNumber: account.number, phone: newPhone() }, NOW));
    expect(result).toMatchObject({ ok: false, error });
    expect(await world.db.accountLink.count({ where: { accountId: account.id } })).toBe(0);
  });

  it("a phone that is not a number, or an account that does not exist, is refused without writing", async () => {
    const account = await createAccount(world.db, { number: newAccountNumber() });
    const residents = await world.db.resident.count();
    expect(await inTx((tx) => linkAccountByStaff(tx, admin, { accountNumber: account.number, phone: "12" }, NOW))).toMatchObject({ ok: false, error: "invalid" });
    expect(await inTx((tx) => linkAccountByStaff(tx, admin, { accountNumber: "NO-SUCH", phone: newPhone() }, NOW))).toMatchObject({ ok: false, error: "not_found" });
    expect(await world.db.resident.count()).toBe(residents);
  });
});

describe("unlinking", () => {
  it("an admin unlinks a phone; the audit trail keeps how it had been linked", async () => {
    const account = await createAccount(world.db, { number: newAccountNumber() });
    const resident = await createResident(world.db, { phone: newPhone() });
    const link = await linkByCode(world.db, account.id, resident.id);
    expect(await inTx((tx) => unlinkAccount(tx, finance, link.id, NOW))).toMatchObject({ ok: false, error: "forbidden" });
    expect(await inTx((tx) => unlinkAccount(tx, admin, link.id, NOW))).toMatchObject({ ok: true, accountNumber: account.number, residentId: resident.id });
    expect(await world.db.accountLink.count({ where: { id: link.id } })).toBe(0);
    const [event] = await auditOf(account.id);
    expect(event).toMatchObject({ kind: "account_unlinked", actorId: admin.id, residentId: resident.id });
    expect(JSON.parse(event!.data)).toMatchObject({ linkId: link.id, linkedBy: "code" });
    expect(await inTx((tx) => unlinkAccount(tx, admin, link.id, NOW))).toMatchObject({ ok: false, error: "not_found" });
    expect(await inTx((tx) => unlinkAccount(tx, admin, 2 ** 40, NOW))).toMatchObject({ ok: false, error: "not_found" });
  });
});

describe("confirming a reported payment", () => {
  it("adds the payment to the statement, reduces the balance, resolves the ticket and tells the resident in Arabic", async () => {
    const { account, resident, phone, report, ticket } = await reportedPayment();
    const result = await inTx((tx) => confirmPayment(tx, ctx(), finance, report.id, NOW));
    expect(result).toMatchObject({ ok: true, outcome: "confirmed", balance: "2500000", currency: "LBP", delivery: { status: "queued" } });

    const lines = await world.db.statementLine.findMany({ where: { accountId: account.id } });
    expect(lines).toEqual([expect.objectContaining({ kind: "payment", currency: "LBP", reference: `PR-${report.id}`, description: "OMT شتورة · OMT-558812", date: NOW })]);
    expect(lines[0]!.amount.toString()).toBe("-1250000"); // payments are negative, as in the finance export
    expect(await balanceOf(account.id, "LBP")).toBe("2500000");
    expect(await balanceOf(account.id, "USD")).toBe("150"); // never mixed
    expect(await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).toMatchObject({ status: "confirmed", confirmedById: finance.id, confirmedAt: NOW });

    expect((await world.db.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).status).toBe("resolved");
    const events = await world.db.ticketEvent.findMany({ where: { ticketId: ticket.id, actorType: "staff" }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.kind, JSON.parse(e.data)])).toEqual([
      ["status_changed", { from: "new", to: "resolved" }],
      ["payment_confirmed", { paymentReportId: report.id, amount: "1250000", currency: "LBP", statementReference: `PR-${report.id}` }],
    ]);
    const audit = await auditOf(account.id);
    expect(audit).toEqual([expect.objectContaining({ kind: "payment_confirmed", actorId: finance.id, residentId: resident.id })]);
    expect(JSON.parse(audit[0]!.data)).toMatchObject({ paymentReportId: report.id, ticketReference: ticket.reference, amount: "1250000", balance: "2500000" });

    const [row] = await outboxOf(resident.id);
    expect(row).toMatchObject({ channel: "sms", toAddress: phone, status: "pending" });
    expect(row!.body).toBe("تم تأكيد دفعتك 1,250,000 ل.ل.، والمتبقي على الحساب 2,500,000 ل.ل.");
    expect(row!.message).toMatchObject({ kind: "notification", ticketId: ticket.id });
    expect(smsCost(row!.body).segments).toBe(1);
  });

  it("confirming twice changes nothing the second time", async () => {
    const { account, resident, report } = await reportedPayment();
    await inTx((tx) => confirmPayment(tx, ctx(), admin, report.id, NOW));
    const counts = async () => [await world.db.statementLine.count({ where: { accountId: account.id } }), (await outboxOf(resident.id)).length, (await auditOf(account.id)).length, await balanceOf(account.id, "LBP")];
    const before = await counts();
    expect(await inTx((tx) => confirmPayment(tx, ctx(), finance, report.id, NOW))).toEqual({ ok: true, outcome: "already_confirmed", accountNumber: account.number });
    expect(await counts()).toEqual(before);
  });

  it("two colleagues confirming at the same moment record the payment once", async () => {
    const { account, report } = await reportedPayment();
    const results = await Promise.all([inTx((tx) => confirmPayment(tx, ctx(), finance, report.id, NOW)), inTx((tx) => confirmPayment(tx, ctx(), admin, report.id, NOW))]);
    expect(results.map((r) => r.ok && r.outcome).sort()).toEqual(["already_confirmed", "confirmed"]);
    expect(await world.db.statementLine.count({ where: { accountId: account.id } })).toBe(1);
    expect(await balanceOf(account.id, "LBP")).toBe("2500000");
  });

  it("an English resident paying dollars reads it in English, with cents", async () => {
    const { resident, report } = await reportedPayment({ locale: "en", amount: "85.5", currency: "USD" });
    expect(await inTx((tx) => confirmPayment(tx, ctx(), finance, report.id, NOW))).toMatchObject({ ok: true, balance: "64.5", currency: "USD" });
    const [row] = await outboxOf(resident.id);
    expect(row!.body).toBe("Your payment of 85.50 USD is confirmed. Remaining balance on this account: 64.50 USD. Thank you.");
  });

  it("writes Arabic-Indic digits when the municipality chose them", async () => {
    const { resident, report } = await reportedPayment();
    await inTx((tx) => confirmPayment(tx, ctx("arabic"), admin, report.id, NOW));
    expect((await outboxOf(resident.id))[0]!.body).toBe("تم تأكيد دفعتك ١٬٢٥٠٬٠٠٠ ل.ل.، والمتبقي على الحساب ٢٬٥٠٠٬٠٠٠ ل.ل.");
  });

  it("an opted-out resident's payment is recorded, but nothing is sent", async () => {
    const { account, resident, report } = await reportedPayment({ optedOut: true });
    expect(await inTx((tx) => confirmPayment(tx, ctx(), finance, report.id, NOW))).toMatchObject({ ok: true, delivery: { status: "not_sent", reason: "opted_out" } });
    expect(await balanceOf(account.id, "LBP")).toBe("2500000");
    expect(await outboxOf(resident.id)).toEqual([]);
  });

  it("only finance agents and admins decide; others change nothing", async () => {
    const { account, report } = await reportedPayment();
    expect(await inTx((tx) => confirmPayment(tx, ctx(), roads, report.id, NOW))).toMatchObject({ ok: false, error: "forbidden" });
    expect(await inTx((tx) => rejectPayment(tx, ctx(), roads, report.id, { reason: "other" }, NOW))).toMatchObject({ ok: false, error: "forbidden" });
    expect(await inTx((tx) => confirmPayment(tx, ctx(), finance, 2 ** 40, NOW))).toMatchObject({ ok: false, error: "not_found" });
    expect(await balanceOf(account.id, "LBP")).toBe("3750000");
    expect((await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).status).toBe("reported");
  });

  it("a payment in a currency the account is not billed in is refused, never mixed into another", async () => {
    const account = await createAccount(world.db, { number: newAccountNumber(), balances: [{ currency: "LBP", amountDue: "500000", dueDate: DUE }] });
    const resident = await createResident(world.db, { phone: newPhone() });
    const { report } = await reportPayment(world.db, { residentId: resident.id, accountId: account.id, amount: "20", currency: "USD" });
    expect(await inTx((tx) => confirmPayment(tx, ctx(), finance, report.id, NOW))).toMatchObject({ ok: false, error: "invalid" });
    expect(await balanceOf(account.id, "LBP")).toBe("500000");
  });
});

describe("rejecting a reported payment", () => {
  it("closes the ticket, keeps the balance, and tells the resident why with the amount", async () => {
    const { account, resident, report, ticket } = await reportedPayment();
    const result = await inTx((tx) => rejectPayment(tx, ctx(), finance, report.id, { reason: "not_received", note: "  Not in the OMT statement of 18/3  " }, NOW));
    expect(result).toMatchObject({ ok: true, outcome: "rejected", delivery: { status: "queued" } });
    expect(await balanceOf(account.id, "LBP")).toBe("3750000");
    expect(await world.db.statementLine.count({ where: { accountId: account.id } })).toBe(0);
    expect((await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).status).toBe("rejected");
    expect((await world.db.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).status).toBe("closed");
    const event = await world.db.ticketEvent.findFirstOrThrow({ where: { ticketId: ticket.id, kind: "payment_rejected" } });
    expect(JSON.parse(event.data)).toEqual({ paymentReportId: report.id, reason: "not_received", note: "Not in the OMT statement of 18/3" });
    expect((await auditOf(account.id)).map((e) => e.kind)).toEqual(["payment_rejected"]);
    const [row] = await outboxOf(resident.id);
    expect(row!.body).toBe("لم نجد دفعتك 1,250,000 ل.ل. في سجلاتنا. راجع البلدية مع الإيصال.");
    // The note is for colleagues only.
    expect(row!.body).not.toContain("OMT statement");
  });

  it("rejecting twice changes nothing; a rejected payment cannot be confirmed, nor a confirmed one rejected", async () => {
    const rejected = await reportedPayment();
    await inTx((tx) => rejectPayment(tx, ctx(), finance, rejected.report.id, { reason: "unreadable" }, NOW));
    expect(await inTx((tx) => rejectPayment(tx, ctx(), finance, rejected.report.id, { reason: "unreadable" }, NOW))).toEqual({ ok: true, outcome: "already_rejected" });
    expect(await outboxOf(rejected.resident.id)).toHaveLength(1);
    expect(await inTx((tx) => confirmPayment(tx, ctx(), finance, rejected.report.id, NOW))).toMatchObject({ ok: false, error: "invalid" });

    const confirmed = await reportedPayment();
    await inTx((tx) => confirmPayment(tx, ctx(), finance, confirmed.report.id, NOW));
    expect(await inTx((tx) => rejectPayment(tx, ctx(), finance, confirmed.report.id, { reason: "other" }, NOW))).toMatchObject({ ok: false, error: "invalid" });
  });

  it("an unknown reason or an overlong note is refused", async () => {
    const { report } = await reportedPayment();
    // @ts-expect-error -- a forged form value
    expect(await inTx((tx) => rejectPayment(tx, ctx(), finance, report.id, { reason: "because" }, NOW))).toMatchObject({ ok: false, error: "invalid" });
    expect(await inTx((tx) => rejectPayment(tx, ctx(), finance, report.id, { reason: "other", note: "x".repeat(501) }, NOW))).toMatchObject({ ok: false, error: "invalid" });
    expect((await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).status).toBe("reported");
  });
});

describe("SMS cost of what residents are told", () => {
  // Realistic worst cases: a year of property fees in lira, a balance over a hundred million.
  const amounts = {
    ar: { amount: "99,500,000 ل.ل.", balance: "125,000,000 ل.ل." },
    en: { amount: "99,500,000 LBP", balance: "125,000,000 LBP" },
  };
  const arabicDigits = { amount: "٩٩٬٥٠٠٬٠٠٠ ل.ل.", balance: "١٢٥٬٠٠٠٬٠٠٠ ل.ل." };
  const keys = ["payment.confirmed", ...REJECTION_REASONS.map((r) => `payment.rejected.${r}`)];

  it.each(LOCALES.flatMap((locale) => keys.map((key) => [locale, key] as const)))("%s %s fits one segment", (locale, key) => {
    const text = world.deps.outbox.render(key, amounts[locale], locale, "sms");
    expect(text).not.toContain("{{");
    expect(smsCost(text).segments, text).toBe(1);
    if (locale === "en") expect(smsCost(text).encoding, text).toBe("GSM-7");
    else expect(smsCost(world.deps.outbox.render(key, arabicDigits, locale, "sms")).segments).toBe(1);
  });
});
