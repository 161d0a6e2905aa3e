import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open311Exclusions, publicTicketWhere, redactContacts, redactPhones, REDACTED, type Open311Exclusion } from "../../../src/services/open311/privacy.js";
import { seedCategories } from "../../../src/services/seed.js";
import { MUNICIPALITY } from "../../support/testApp.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

describe("redactPhones", () => {
  it.each([
    ["call me on 03 123 456", `call me on ${REDACTED}`],
    ["٠٣١٢٣٤٥٦", REDACTED],
    ["اتصلوا على ٧١ ١٢٣ ٤٥٦ بعد الظهر", `اتصلوا على ${REDACTED} بعد الظهر`],
    ["رقمي ۰۳۱۲۳۴۵۶", `رقمي ${REDACTED}`],
    ["+961 71 123 456", REDACTED],
    ["00961-3-123456", REDACTED],
    ["03/123456 or 01.234.567", `${REDACTED} or ${REDACTED}`],
    ["(03) 123-456 please", `${REDACTED} please`],
    ["03 123 456, 71 234 567", REDACTED], // a comma may sit inside a number: both go
    ["رقم\u200f ٠٣ \u200e١٢٣ ٤٥٦", `رقم\u200f ${REDACTED}`],
    ["whatsapp me 71123456!", `whatsapp me ${REDACTED}!`],
    ["03,123,456", REDACTED],
    ["03_123456 or 03*123*456", `${REDACTED} or ${REDACTED}`],
    ["03·123·456", REDACTED],
    ["03\u200b123456", REDACTED],
    ["٠٣٬١٢٣٬٤٥٦", REDACTED],
    ["\u206603 123 456\u2069", `\u2066${REDACTED}\u2069`],
  ])("%j → %j", (text, expected) => {
    expect(redactPhones(text)).toBe(expected);
  });

  it.each([
    "Request #10427 near building 12",
    "3 holes, 200 m from school 5",
    "في حفرة عمقها ٣٠ سم قرب البناية رقم ١٢",
    "123 456",
    "from 08:30 to 12:45",
    "1\n2\n3\n4\n5\n6\n7",
    "12345\n67890",
    "",
  ])("leaves %j as it is (fewer than seven digits in a row)", (text) => {
    expect(redactPhones(text)).toBe(text);
  });
});

describe("open311Exclusions", () => {
  type Ticket = Parameters<typeof open311Exclusions>[0];
  const base: Ticket = { open311Hidden: false, category: { isPrivate: false }, department: "public_works", paymentReport: false };
  it.each<[string, Partial<Ticket>, Open311Exclusion[]]>([
    ["a categorised request", {}, []],
    ["one without a department", { department: null }, []],
    ["one without a category", { category: null }, ["no_category"]],
    ["one in a private category", { category: { isPrivate: true } }, ["private_category"]],
    ["a payment report", { paymentReport: true, category: null, department: "finance" }, ["no_category", "payment_report", "finance"]],
    ["one of the finance department", { department: "finance" }, ["finance"]],
    ["one staff hid", { open311Hidden: true }, ["hidden"]],
  ])("%s", (_name, change, expected) => {
    expect(open311Exclusions({ ...base, ...change })).toEqual(expected);
  });
});

describe("publicTicketWhere", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await seedCategories(database.db, MUNICIPALITY);
  });
  afterAll(async () => {
    await database.drop();
  });

  it("selects exactly the tickets open311Exclusions finds nothing against, NULL departments included", async () => {
    const { db } = database;
    const category = (code: string) => db.category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code } } });
    const roads = await category("roads");
    const secret = await db.category.create({ data: { municipalityId: MUNICIPALITY, code: "secret_test", nameAr: "سري", nameEn: "Secret", department: "administration", isPrivate: true } });
    const resident = await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96171000001" } });
    const elsewhere = await db.resident.create({ data: { municipalityId: "zahle", phone: "+96171000001" } });
    const account = await db.account.create({ data: { municipalityId: MUNICIPALITY, number: "QE-1", holderName: "Holder", accountType: "property", verificationCodeHash: "x" } });
    let reference = 100;
    const ticket = (fields: { categoryId?: number | null; department?: string | null; open311Hidden?: boolean; municipalityId?: string; residentId?: number }) =>
      db.ticket.create({
        data: { municipalityId: MUNICIPALITY, reference: ++reference, residentId: resident.id, description: "x", channel: "sms", locale: "ar", categoryId: roads.id, department: "public_works", ...fields },
      });
    const expected = new Set([(await ticket({})).id, (await ticket({ department: null })).id, (await ticket({ department: "water" })).id]);
    await ticket({ open311Hidden: true });
    await ticket({ categoryId: null });
    await ticket({ categoryId: null, department: null });
    await ticket({ categoryId: secret.id, department: "administration" });
    await ticket({ department: "finance" });
    await ticket({ municipalityId: "zahle", residentId: elsewhere.id });
    const payment = await ticket({ department: "public_works" });
    await db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: payment.id, accountId: account.id, amount: "100", currency: "USD", paidAt: "town hall" } });

    const selected = await db.ticket.findMany({ where: publicTicketWhere(MUNICIPALITY), select: { id: true } });
    expect(new Set(selected.map((t) => t.id))).toEqual(expected);

    const all = await db.ticket.findMany({ where: { municipalityId: MUNICIPALITY }, include: { category: true, paymentReport: true } });
    for (const t of all) {
      const reasons = open311Exclusions({ open311Hidden: t.open311Hidden, category: t.category, department: t.department, paymentReport: t.paymentReport !== null });
      expect(reasons.length === 0, `ticket #${t.reference}: ${reasons.join(", ")}`).toBe(expected.has(t.id));
    }
  });
});

describe("redactContacts", () => {
  it.each([
    ["email me at ahmad.khalil@gmail.com or whatsapp +961 3 123456", `email me at ${REDACTED} or whatsapp ${REDACTED}`],
    ["راسلوني على nour_f＠hotmail.com", `راسلوني على ${REDACTED}`],
    ["(rima@example.org)", `(${REDACTED})`],
  ])("%j → %j", (text, expected) => {
    expect(redactContacts(text)).toBe(expected);
  });

  it("leaves a text without contacts as it is", () => {
    expect(redactContacts("the lamp @ the corner is out since Monday")).toBe("the lamp @ the corner is out since Monday");
  });
});
