import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolate } from "../../../src/http/staff/format.js";
import { maskPhone } from "../../../src/lib/maskPhone.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { createAccount, createResident, linkByCode, reportPayment } from "./accountFixtures.js";
import { freshPhone, hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let hala: StaffBrowser; // admin, Arabic
let nadim: StaffBrowser; // finance agent, English
let rania: StaffBrowser; // public works agent, Arabic
const DUE = new Date("2025-03-31T00:00:00Z");
const holderPhone = freshPhone();
let account: Awaited<ReturnType<typeof createAccount>>;
let holder: Awaited<ReturnType<typeof createResident>>;

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "nadim", "rania");
  account = await createAccount(world.db, {
    number: "QE-004217",
    holderName: "جورج الخوري <script>alert(1)</script>",
    description: "محل تجاري، الطريق العام",
    accountType: "business",
    balances: [
      { currency: "LBP", amountDue: "3750000", dueDate: DUE },
      { currency: "USD", amountDue: "150", dueDate: DUE },
    ],
    lines: [{ date: new Date("2025-01-15T00:00:00Z"), kind: "charge", description: "رسم القيمة التأجيرية 2025", currency: "LBP", amount: "3750000", reference: "CH-2025-4217" }],
  });
  await createAccount(world.db, { number: "QE-009999", holderName: "Maya Haddad", balances: [{ currency: "LBP", amountDue: "0", dueDate: DUE }] });
  holder = await createResident(world.db, { phone: holderPhone });
  await linkByCode(world.db, account.id, holder.id);
  [hala, nadim, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "nadim"), signedIn(world.app, "rania")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const flashAfter = async (browser: StaffBrowser, res: Awaited<ReturnType<StaffBrowser["post"]>>) => {
  expect(res.status, res.text).toBe(303);
  return textOf((await browser.follow(res)).text);
};
const accountPath = "/staff/accounts/QE-004217";

describe("who sees the account pages", () => {
  it("admins and finance agents have the Accounts link; other agents do not", async () => {
    expect((await hala.get("/staff")).text).toContain('href="/staff/accounts"');
    expect((await nadim.get("/staff")).text).toContain('href="/staff/accounts"');
    expect((await rania.get("/staff")).text).not.toContain('href="/staff/accounts"');
  });

  it.each(["/staff/accounts", accountPath, "/staff/accounts?q=QE", "/staff/accounts/NO-SUCH"])("an agent outside finance opening %s gets 403", async (path) => {
    const res = await rania.get(path);
    expect(res.status).toBe(403);
    expect(res.text).not.toContain("جورج");
  });

  it("an agent outside finance cannot link or unlink by a forged form", async () => {
    const before = await world.db.accountLink.count();
    expect((await rania.post(`${accountPath}/links`, { phone: freshPhone(), idChecked: "on" })).status).toBe(403);
    const link = await world.db.accountLink.findFirstOrThrow({ where: { accountId: account.id } });
    expect((await rania.post(`${accountPath}/links/${link.id}/unlink`)).status).toBe(403);
    expect((await nadim.post(`${accountPath}/links/${link.id}/unlink`)).status).toBe(403);
    expect(await world.db.accountLink.count()).toBe(before);
  });

  it("an account that does not exist is a 404", async () => {
    expect((await hala.get("/staff/accounts/NO-SUCH")).status).toBe(404);
  });
});

describe("searching accounts", () => {
  it.each([
    ["the account number", "4217"],
    ["the holder's name", "الخوري"],
    ["a linked phone, typed the local way", `0${holderPhone.slice(4)}`],
  ])("finds the account by %s", async (_what, q) => {
    const page = textOf((await nadim.get(`/staff/accounts?q=${encodeURIComponent(q)}`)).text);
    expect(page).toContain("QE-004217");
    expect(page).not.toContain("QE-009999");
    expect(page).toContain("1 account");
  });

  it("lists every account with its balances per currency and due dates", async () => {
    const page = textOf((await hala.get("/staff/accounts")).text);
    expect(page).toContain("QE-004217");
    expect(page).toContain("QE-009999");
    expect(page).toContain("3,750,000 ل.ل.");
    expect(page).toContain("150 دولار");
    expect(page).toContain("حسابان");
    expect(page).toContain("هاتف واحد");
  });

  it("a search nothing matches says so", async () => {
    expect(textOf((await nadim.get("/staff/accounts?q=zzz")).text)).toContain("No account matches this search.");
  });
});

describe("an account's page", () => {
  it("shows the holder, balances, statement and linked phones; admins see phones in full", async () => {
    const res = await hala.get(accountPath);
    expect(res.status).toBe(200);
    const page = textOf(res.text);
    expect(page).toContain("محل تجاري، الطريق العام");
    expect(page).toContain("مؤسسة تجارية");
    expect(page).toContain("3,750,000 ل.ل.");
    expect(page).toContain("رسم القيمة التأجيرية 2025");
    expect(page).toContain("CH-2025-4217");
    expect(page).toContain(holderPhone);
    expect(page).toContain("برمز الفاتورة");
    // The holder's name is shown as text, never run.
    expect(res.text).not.toContain("<script>alert(1)</script>");
    expect(res.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    // The admin's forms.
    expect(res.text).toContain(`action="${accountPath}/links"`);
    expect(res.text).toContain("/unlink");
  });

  it("a finance agent sees phones masked, and no link or unlink forms", async () => {
    const res = await nadim.get(accountPath);
    const page = textOf(res.text);
    expect(page).toContain("Account");
    expect(page).toContain("3,750,000 LBP");
    expect(page).toContain(maskPhone(holderPhone));
    expect(page).not.toContain(holderPhone);
    expect(res.text).not.toContain(`action="${accountPath}/links"`);
    expect(res.text).not.toContain("/unlink");
  });

  it("staff see the verification attempts made with this account number", async () => {
    const guesser = await createResident(world.db, { phone: freshPhone() });
    const at = new Date("2025-03-18T07:12:00Z");
    await world.db.verificationAttempt.createMany({
      data: [
        { municipalityId: MUNICIPALITY, residentId: guesser.id, accountNumber: "QE-004217", success: false, createdAt: at },
        { municipalityId: MUNICIPALITY, residentId: guesser.id, accountNumber: "QE-004217", success: false, createdAt: new Date(at.getTime() + 60_000) },
        { municipalityId: MUNICIPALITY, residentId: holder.id, accountNumber: "QE-004217", success: true, createdAt: new Date(at.getTime() + 120_000) },
      ],
    });
    const english = textOf((await nadim.get(accountPath)).text);
    expect(english).toContain("Verification attempts");
    expect(english.match(/Wrong code/g)).toHaveLength(2);
    expect(english).toContain("Right code");
    expect(english).toContain(maskPhone(guesser.phone));
    expect(english).toContain("18 Mar 2025, 09:12"); // Beirut time
    const arabic = textOf((await hala.get(accountPath)).text);
    expect(arabic).toContain("رمز خاطئ");
    expect(arabic).toContain(guesser.phone);
  });

  it("says when wrong codes have locked the account number for the bot", async () => {
    const other = await createAccount(world.db, { number: "QE-005555" });
    const guesser = await createResident(world.db, { phone: freshPhone() });
    const recent = (minutesAgo: number) => ({ municipalityId: MUNICIPALITY, residentId: guesser.id, accountNumber: other.number, success: false, createdAt: new Date(Date.now() - minutesAgo * 60_000) });
    await world.db.verificationAttempt.createMany({ data: [recent(50), recent(40), recent(30), recent(20)] });
    expect(textOf((await nadim.get("/staff/accounts/QE-005555")).text)).not.toContain("in the last hour");
    await world.db.verificationAttempt.create({ data: recent(1) });
    expect(textOf((await nadim.get("/staff/accounts/QE-005555")).text)).toContain("5 wrong codes in the last hour: the bot does not accept codes for this account for now.");
    expect(textOf((await hala.get("/staff/accounts/QE-005555")).text)).toContain("5 رموز خاطئة خلال الساعة الأخيرة");
  });

  it("every account page reads in Arabic and in English", async () => {
    for (const [locale, dir] of [["en", "ltr"], ["ar", "rtl"]] as const) {
      await world.db.staff.update({ where: { id: ids.hala }, data: { locale } });
      for (const path of ["/staff/accounts", accountPath, "/staff/accounts/QE-009999", "/staff/accounts?q=%D8%AC&page=1"]) {
        const res = await hala.get(path);
        expect(res.status, `${locale} ${path}`).toBe(200);
        expect(res.text).toContain(`<html lang="${locale}" dir="${dir}">`);
      }
    }
    await world.db.staff.update({ where: { id: ids.hala }, data: { locale: "ar" } });
  });
});

describe("linking at the counter", () => {
  it("is refused until the admin ticks that the ID was checked", async () => {
    const phone = freshPhone();
    const page = await flashAfter(hala, await hala.post(`${accountPath}/links`, { phone }));
    expect(page).toContain("ضع علامة في المربع بعد التحقق من وثيقة الهوية.");
    expect(await world.db.resident.count({ where: { phone } })).toBe(0);
  });

  it("links a phone that never wrote, audited in the trail with the admin's name", async () => {
    const res = await hala.post(`${accountPath}/links`, { phone: "70 123 456", locale: "en", idChecked: "on" });
    const page = await flashAfter(hala, res);
    expect(page).toContain(`أصبح ${isolate("+96170123456")} مربوطاً بالحساب ${isolate("QE-004217")}.`);
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: "+96170123456" } });
    expect(resident.locale).toBe("en");
    expect(await world.db.accountLink.findFirst({ where: { accountId: account.id, residentId: resident.id } })).toMatchObject({ linkedBy: "staff", staffId: ids.hala });
    expect(page).toContain(`في مكتب البلدية بواسطة ${isolate("Hala")}`);
    expect(page).toContain(`ربط ${isolate("+96170123456")} (${isolate("في مكتب البلدية")})`);
    // Nadim reads the same trail in English, phone masked.
    const english = textOf((await nadim.get(accountPath)).text);
    expect(english).toContain(`Linked ${isolate(maskPhone("+96170123456"))} (${isolate("at the counter")})`);
  });

  it("a wrong phone number is explained; without the CSRF token nothing happens", async () => {
    expect(await flashAfter(hala, await hala.post(`${accountPath}/links`, { phone: "123", idChecked: "on" }))).toContain("رقم الهاتف غير صحيح.");
    const before = await world.db.accountLink.count();
    const forged = await hala.post(`${accountPath}/links`, { phone: freshPhone(), idChecked: "on", _csrf: "forged" });
    expect(forged.status).toBe(403);
    expect(await world.db.accountLink.count()).toBe(before);
  });

  it("an admin unlinks a phone; the trail records it; another account's link cannot be reached through this page", async () => {
    const phone = freshPhone();
    await flashAfter(hala, await hala.post(`${accountPath}/links`, { phone, idChecked: "on" }));
    const link = await world.db.accountLink.findFirstOrThrow({ where: { accountId: account.id, resident: { phone } } });
    expect((await hala.post(`/staff/accounts/QE-009999/links/${link.id}/unlink`)).status).toBe(404);
    const page = await flashAfter(hala, await hala.post(`${accountPath}/links/${link.id}/unlink`));
    expect(page).toContain(`تم فك ربط الهاتف بالحساب ${isolate("QE-004217")}`);
    expect(await world.db.accountLink.count({ where: { id: link.id } })).toBe(0);
    expect(page).toContain(`فك ربط ${isolate(phone)}`);
    const audit = await world.db.auditEvent.findMany({ where: { accountId: account.id, residentId: link.residentId }, orderBy: { id: "asc" } });
    expect(audit.map((e) => e.kind)).toEqual(["account_linked", "account_unlinked"]);
  });
});

describe("a reported payment on its ticket", () => {
  const receipt = { url: "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1", contentType: "image/jpeg" };

  async function payment(amount = "1250000") {
    return reportPayment(world.db, { residentId: holder.id, accountId: account.id, amount, currency: "LBP", paidAt: "OMT شتورة", paymentRef: "OMT-558812", media: [receipt] });
  }
  const balance = async () => (await world.db.accountBalance.findUniqueOrThrow({ where: { accountId_currency: { accountId: account.id, currency: "LBP" } } })).amountDue.toString();

  it("shows the payment, the receipt photo through the media proxy, the phone's accounts and attempts, and the buttons", async () => {
    const { reference } = await payment();
    const res = await nadim.get(`/staff/tickets/${reference}`);
    expect(res.status).toBe(200);
    const page = textOf(res.text);
    expect(page).toContain("Reported payment");
    expect(page).toContain("1,250,000 LBP");
    expect(page).toContain("OMT شتورة");
    expect(page).toContain("OMT-558812");
    expect(page).toContain("To check");
    expect(res.text).toContain(`<img src="/staff/tickets/${reference}/media/ticket/0"`);
    expect(res.text).toContain(`action="/staff/tickets/${reference}/payment/confirm"`);
    expect(res.text).toContain(`action="/staff/tickets/${reference}/payment/reject"`);
    // The phone's accounts and its verification attempts, for finance staff.
    expect(page).toContain("Accounts of this phone");
    expect(page).toContain("Latest verification attempts");
    expect(res.text).toContain('href="/staff/accounts/QE-004217"');
    expect(page).toContain("Right code");
  });

  it("an agent outside finance cannot open the ticket or confirm it", async () => {
    const { reference, report } = await payment();
    expect((await rania.get(`/staff/tickets/${reference}`)).status).toBe(404);
    expect((await rania.post(`/staff/tickets/${reference}/payment/confirm`)).status).toBe(404);
    expect((await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).status).toBe("reported");
  });

  it("confirming adds the statement line, reduces the balance, resolves the ticket and tells the resident in Arabic; twice changes nothing", async () => {
    const { reference, report, ticket } = await payment();
    const before = await balance();
    const page = await flashAfter(nadim, await nadim.post(`/staff/tickets/${reference}/payment/confirm`));
    expect(page).toContain(`Payment confirmed: it is on the statement and the balance is now`);
    expect(page).toContain("The resident is being notified in their language.");
    expect(page).toContain(`Confirmed by ${isolate("Nadim")}`);
    expect(page).toContain(`Payment of ${isolate("1,250,000 LBP")} confirmed (statement ${isolate(`PR-${report.id}`)})`);
    expect(page).not.toContain(`action="/staff/tickets/${reference}/payment/confirm"`);
    expect(Number(await balance())).toBe(Number(before) - 1_250_000);
    expect(await world.db.statementLine.findFirst({ where: { accountId: account.id, reference: `PR-${report.id}` } })).toMatchObject({ kind: "payment" });
    expect((await world.db.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).status).toBe("resolved");
    const sent = await world.db.outbox.findMany({ where: { message: { ticketId: ticket.id } } });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toBe(`تم تأكيد دفعتك 1,250,000 ل.ل.، والمتبقي على الحساب ${Number(await balance()).toLocaleString("en-US")} ل.ل.`);
    expect(sent[0]!.toAddress).toBe(holderPhone);

    const again = await flashAfter(nadim, await nadim.post(`/staff/tickets/${reference}/payment/confirm`));
    expect(again).toContain("This payment was already confirmed; nothing changed.");
    expect(await world.db.outbox.count({ where: { message: { ticketId: ticket.id } } })).toBe(1);
    expect(await world.db.statementLine.count({ where: { accountId: account.id, kind: "payment" } })).toBe(1);

    // The account page shows the payment line and the confirmation in the trail.
    const accountPage = textOf((await hala.get(accountPath)).text);
    expect(accountPage).toContain(`PR-${report.id}`);
    expect(accountPage).toContain(`تأكيد دفعة ${isolate("1,250,000 ل.ل.")} (الطلب #${reference})`);
  });

  it("rejecting needs a reason, closes the ticket and tells the resident", async () => {
    const { reference, ticket } = await payment("400000");
    const before = await balance();
    expect(await flashAfter(hala, await hala.post(`/staff/tickets/${reference}/payment/reject`, { reason: "", note: "" }))).toContain("اختر سبب رفض الدفعة.");
    const page = await flashAfter(hala, await hala.post(`/staff/tickets/${reference}/payment/reject`, { reason: "amount_mismatch", note: "OMT shows 40,000 <b>only</b>" }));
    expect(page).toContain("تم رفض الدفعة وأغلق الطلب.");
    expect(page).toContain("رفض الدفعة: المبلغ لا يطابق");
    expect(page).toContain("OMT shows 40,000 <b>only</b>"); // as text
    expect(await balance()).toBe(before);
    expect((await world.db.ticket.findUniqueOrThrow({ where: { id: ticket.id } })).status).toBe("closed");
    const [sent] = await world.db.outbox.findMany({ where: { message: { ticketId: ticket.id } } });
    expect(sent!.body).toBe("دفعتك 400,000 ل.ل. لا تطابق ما وصلنا. راجع البلدية مع الإيصال.");
  });

  it("a decision that can no longer be taken is explained in Arabic, with no English from the service", async () => {
    const rejected = await payment("400000");
    await flashAfter(hala, await hala.post(`/staff/tickets/${rejected.reference}/payment/reject`, { reason: "unreadable", note: "" }));
    expect(await flashAfter(hala, await hala.post(`/staff/tickets/${rejected.reference}/payment/confirm`))).toContain("رُفضت هذه الدفعة من قبل: لم يعد ممكناً تأكيدها.");
    const confirmed = await payment("1000");
    await flashAfter(hala, await hala.post(`/staff/tickets/${confirmed.reference}/payment/confirm`));
    const page = await flashAfter(hala, await hala.post(`/staff/tickets/${confirmed.reference}/payment/reject`, { reason: "unreadable", note: "" }));
    expect(page).toContain("أُكّدت هذه الدفعة من قبل: لم يعد ممكناً رفضها.");
    expect(page).not.toContain("This payment was already");
    // A payment in a currency the account owes nothing in: the account number stays whole in the sentence.
    const liraOnly = await world.db.account.findFirstOrThrow({ where: { number: "QE-009999" } });
    const dollars = await reportPayment(world.db, { residentId: holder.id, accountId: liraOnly.id, amount: "20", currency: "USD", paidAt: "OMT", paymentRef: "", media: [] });
    expect(await flashAfter(hala, await hala.post(`/staff/tickets/${dollars.reference}/payment/confirm`))).toContain(`لا رصيد للحساب ${isolate("QE-009999")} بعملة ${isolate("USD")}`);
  });

  it("confirm and reject without the CSRF token are refused with 403", async () => {
    const { reference, report } = await payment();
    expect((await nadim.post(`/staff/tickets/${reference}/payment/confirm`, { _csrf: "" })).status).toBe(403);
    expect((await nadim.post(`/staff/tickets/${reference}/payment/reject`, { reason: "other", _csrf: "nope" })).status).toBe(403);
    expect((await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).status).toBe("reported");
  });

  it("a ticket that is not a payment report has no payment buttons, and the endpoints are 404 for it", async () => {
    const other = await world.db.ticket.create({
      data: { municipalityId: MUNICIPALITY, reference: 80_001, residentId: holder.id, description: "سؤال عن الفاتورة", department: "finance", channel: "sms", locale: "ar" },
    });
    const res = await nadim.get(`/staff/tickets/${other.reference}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain("/payment/confirm");
    expect((await nadim.post(`/staff/tickets/${other.reference}/payment/confirm`)).status).toBe(404);
  });
});
