import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, REDACTED_CODE, type Inbox } from "../../src/inbox/handleInbound.js";
import { linkedAccountsOf, statementLinesOf } from "../../src/db/hot/accounts.js";
import { hashPassword } from "../../src/services/passwords.js";
import { reportPayment } from "../../src/db/hot/payments.js";
import { inbound } from "../support/builders.js";
import { createTestWorld, inboxDeps, MUNICIPALITY } from "../support/testApp.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
let inbox: Inbox;
let arabicDigitsInbox: Inbox;
// The inbox's clock: a second passes between messages; tests move it past a lockout.
let now = new Date("2026-11-29T09:00:00Z");
const tick = () => (now = new Date(now.getTime() + 1000));

beforeAll(async () => {
  world = await createTestWorld();
  const deps = inboxDeps(world, { clock: tick });
  inbox = createInbox(deps);
  arabicDigitsInbox = createInbox({ ...deps, amountDigits: "arabic" });
});
afterAll(async () => {
  await world.drop();
});

// Codes are hashed as the importer does, with cheap scrypt parameters so the suite stays quick.
const CHEAP = { N: 2 ** 12, r: 8, p: 1 };
let accountCounter = 0;

async function createAccount(fields: { code: string; holderName?: string; cost?: typeof CHEAP; withLines?: boolean }) {
  const number = `QE-${200000 + ++accountCounter}`;
  const account = await world.db.account.create({
    data: {
      municipalityId: MUNICIPALITY,
      number,
      holderName: fields.holderName ?? "عبد الرحمن محمد سليم الحاج حسن",
      accountType: "property",
      verificationCodeHash: await hashPassword(fields.code, fields.cost ?? CHEAP),
      balances: {
        create: [
          { currency: "LBP", amountDue: "1250000", dueDate: new Date("2026-12-31T00:00:00Z") },
          { currency: "USD", amountDue: "85.50", dueDate: new Date("2026-12-31T00:00:00Z") },
        ],
      },
      lines: fields.withLines
        ? {
            create: [
              { date: new Date("2026-01-10T00:00:00Z"), kind: "charge", description: "رسم 2026", currency: "LBP", amount: "2500000", reference: "C-1" },
              { date: new Date("2026-06-15T00:00:00Z"), kind: "payment", description: "OMT", currency: "LBP", amount: "1250000", reference: "P-1" },
            ],
          }
        : undefined,
    },
  });
  return account;
}

let phoneCounter = 0;
/** A resident with a phone number no other test uses. */
function resident(channel: "sms" | "whatsapp" = "sms", via: () => Inbox = () => inbox) {
  const from = `+9617${String(2000000 + ++phoneCounter).slice(1)}`;
  return {
    from,
    say: async (text: string, extra: Partial<Parameters<Inbox>[0]> = {}) => {
      const result = await via()(inbound({ from, channel, text, ...extra }));
      return result.replies.join("\n");
    },
  };
}

const residentId = async (phone: string) =>
  (await world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } } })).id;

/** Asks for the balance, gives the account number and the code; returns the last reply. */
async function tryLinking(r: ReturnType<typeof resident>, number: string, code: string) {
  await r.say("قديش عليّ");
  await r.say(number);
  return r.say(code);
}

describe("verification before any disclosure", () => {
  it("a wrong code and an unknown account number get the same answer, and both are recorded", async () => {
    const account = await createAccount({ code: "4821" });
    const a = resident();
    const b = resident();
    // Typed in lower case: the account is found all the same, and the attempt filed under its number.
    const wrongCode = await tryLinking(a, account.number.toLowerCase(), "1111");
    const unknownNumber = await tryLinking(b, "qe-999999", "4821");
    expect(wrongCode).toBe(unknownNumber);
    expect(wrongCode).toBe("رقم الحساب والرمز غير متطابقين. راجع الفاتورة وأرسل رقم الحساب من جديد، أو 0 للقائمة.");
    const attempts = await world.db.verificationAttempt.findMany({ where: { residentId: { in: [await residentId(a.from), await residentId(b.from)] } }, orderBy: { id: "asc" } });
    expect(attempts.map((t) => [t.accountNumber, t.success])).toEqual([
      [account.number, false],
      ["QE-999999", false],
    ]);
    expect(await world.db.accountLink.count({ where: { accountId: account.id } })).toBe(0);
  });

  it("an unknown account number costs as much time as a wrong code (a dummy hash is checked)", async () => {
    const cost = { N: 2 ** 15, r: 8, p: 1 };
    const account = await createAccount({ code: "4821", cost });
    const timed = async (number: string) => {
      const r = resident();
      await r.say("رصيدي");
      await r.say(number);
      const started = performance.now();
      await r.say("1111");
      return performance.now() - started;
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      wrong.push(await timed(account.number));
      unknown.push(await timed(`QE-88888${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
    // Without the dummy hash an unknown number answers in about a millisecond.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
  });

  it("the code is never stored: the message that carried it is blanked out", async () => {
    const account = await createAccount({ code: "735190" });
    const r = resident();
    await tryLinking(r, account.number, "٧٣٥١٩٠");
    const bodies = (await world.db.message.findMany({ where: { residentId: await residentId(r.from), direction: "inbound" }, orderBy: { id: "asc" } })).map((m) => m.body);
    expect(bodies).toEqual(["قديش عليّ", account.number, REDACTED_CODE]);
    const conversation = await world.db.conversation.findFirstOrThrow({ where: { residentId: await residentId(r.from) } });
    expect(conversation.state).not.toContain("735190");
  });

  it("five failed tries lock a phone for an hour, even for the right code", async () => {
    const account = await createAccount({ code: "4821" });
    const r = resident();
    const replies: string[] = [];
    await r.say("رصيدي");
    for (let i = 0; i < 5; i++) {
      await r.say(`QE-77777${i}`);
      replies.push(await r.say("1234"));
    }
    const locked = "محاولات كثيرة. حاول بعد ساعة، أو راجع البلدية مع هويتك والفاتورة.";
    expect(replies.at(-1)).toBe(locked);
    expect(replies.slice(0, 4).every((reply) => reply !== locked)).toBe(true);
    // Locked: the bot does not even ask for the number.
    expect(await r.say("رصيدي")).toBe(locked);
    expect(await world.db.verificationAttempt.count({ where: { residentId: await residentId(r.from) } })).toBe(5);

    now = new Date(now.getTime() + 61 * 60_000);
    const linked = await tryLinking(r, account.number, "4821");
    expect(linked.startsWith(`تم ربط ${account.number}`)).toBe(true);
  });

  it("five failed tries on one account number lock it for every phone — and a number that does not exist alike", async () => {
    const account = await createAccount({ code: "4821" });
    const answers: Record<string, string[]> = {};
    for (const number of [account.number, "QE-666666"]) {
      answers[number] = [];
      for (let i = 0; i < 5; i++) answers[number].push(await tryLinking(resident(), number, `000${i}`));
      answers[number].push(await tryLinking(resident(), number, "4821"));
    }
    expect(answers[account.number]).toEqual(answers["QE-666666"]);
    expect(answers[account.number]!.at(-1)).toBe("محاولات كثيرة. حاول بعد ساعة، أو راجع البلدية مع هويتك والفاتورة.");
    expect(await world.db.accountLink.count({ where: { accountId: account.id } })).toBe(0);
  });

  it("lookups only ever show the resident's own linked accounts", async () => {
    const account = await createAccount({ code: "4821", withLines: true });
    const owner = resident();
    await tryLinking(owner, account.number, "4821");
    const stranger = resident();
    await stranger.say("hello");
    const strangerId = await residentId(stranger.from);
    expect(await linkedAccountsOf(world.hot.db, MUNICIPALITY, strangerId)).toEqual([]);
    expect(await statementLinesOf(world.hot.db, MUNICIPALITY, strangerId, account.id, 10)).toEqual([]);
    expect(await statementLinesOf(world.hot.db, MUNICIPALITY, await residentId(owner.from), account.id, 10)).toHaveLength(2);
    // A payment report against an account that is not linked is refused outright.
    await expect(
      reportPayment(
        world.hot.db,
        { reference: 99001, accountId: account.id, amount: "1", currency: "LBP", paidAt: "OMT", paymentRef: "", media: [], startedAt: now },
        { municipalityId: MUNICIPALITY, residentId: strangerId, channel: "sms", locale: "en" },
        now,
      ),
    ).rejects.toThrow(/not linked/);
  });
});

describe("linked residents", () => {
  it("linking is recorded, and so is every disclosure", async () => {
    const account = await createAccount({ code: "4821", withLines: true });
    const r = resident();
    const summary = await tryLinking(r, account.number, "4821");
    expect(summary).toBe(
      [
        `تم ربط ${account.number} عبد الرحمن مح…`,
        "عليك 1,250,000 ل.ل. حتى 31/12/2026",
        "و85.50 دولار حتى 31/12/2026",
        "آخر دفعة 1,250,000 ل.ل. في 15/06/2026",
      ].join("\n"),
    );
    const id = await residentId(r.from);
    expect(await world.db.accountLink.findMany({ where: { accountId: account.id } })).toEqual([
      expect.objectContaining({ residentId: id, linkedBy: "code", staffId: null }),
    ]);
    expect(await world.db.verificationAttempt.findMany({ where: { residentId: id } })).toEqual([
      expect.objectContaining({ accountNumber: account.number, success: true }),
    ]);

    expect(await r.say("كشف حساب")).toBe(`آخر حركات الحساب ${account.number}:\n15/06/2026 دفعة 1,250,000 ل.ل.\n10/01/2026 رسم 2,500,000 ل.ل.`);
    const audit = await world.db.auditEvent.findMany({ where: { accountId: account.id }, orderBy: { id: "asc" } });
    expect(audit.map((e) => [e.kind, e.actorType, e.residentId, JSON.parse(e.data)])).toEqual([
      ["account_linked", "resident", id, { via: "code" }],
      ["balance_disclosed", "resident", id, { channel: "sms" }],
      ["statement_disclosed", "resident", id, { channel: "sms" }],
    ]);
  });

  it("a second phone of the family can link the same account", async () => {
    const account = await createAccount({ code: "4821" });
    await tryLinking(resident(), account.number, "4821");
    const spouse = resident("whatsapp");
    const reply = await tryLinking(spouse, account.number, "4821");
    expect(reply).toContain("لآخر الحركات أرسل: كشف حساب");
    expect(await world.db.accountLink.count({ where: { accountId: account.id } })).toBe(2);
  });

  it("amounts and dates use Arabic-Indic digits when the town configures them", async () => {
    const account = await createAccount({ code: "4821" });
    const r = resident("sms", () => arabicDigitsInbox);
    const summary = await tryLinking(r, account.number, "4821");
    expect(summary.split("\n")[1]).toBe("عليك ١٬٢٥٠٬٠٠٠ ل.ل. حتى ٣١/١٢/٢٠٢٦");
  });

  it("how to pay gives the account number as the payment reference", async () => {
    const account = await createAccount({ code: "4821" });
    const r = resident();
    await r.say("hello");
    expect(await r.say("how do I pay?")).toContain("To see what you owe, send BALANCE.");
    await r.say("balance");
    await r.say(account.number);
    await r.say("4821");
    expect(await r.say("how do I pay?")).toContain(`Payment reference: ${account.number}`);
  });
});

describe("reporting a payment", () => {
  it("by SMS: a ticket in the finance queue with its PaymentReport", async () => {
    const account = await createAccount({ code: "4821" });
    const r = resident();
    await tryLinking(r, account.number, "4821");
    await r.say("دفعت");
    await r.say("500 الف ليرة");
    await r.say("3");
    const filed = await r.say("884512");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    expect(filed).toBe(`سجلنا دفعة 500,000 ل.ل. عن الحساب ${account.number}. رقم المتابعة #${reference}. سيتحقق منها قسم المالية ويبلغك.`);
    const ticket = await world.db.ticket.findFirstOrThrow({
      where: { reference },
      include: { paymentReport: true, events: true, messages: { orderBy: { id: "asc" } } },
    });
    expect(ticket).toMatchObject({ department: "finance", categoryId: null, status: "new", channel: "sms", locale: "ar", needsHuman: false });
    expect(ticket.description).toBe(`Payment reported: 500,000 LBP at OMT, receipt 884512, account ${account.number}`);
    expect(ticket.paymentReport).toMatchObject({ accountId: account.id, currency: "LBP", paidAt: "OMT", paymentRef: "884512", status: "reported" });
    expect(ticket.paymentReport?.amount.toFixed()).toBe("500000");
    expect(ticket.events.map((e) => e.kind)).toEqual(["created"]);
    // The report's messages, from "دفعت" to the bot's answer, are on the ticket.
    expect(ticket.messages.map((m) => m.body)).toEqual([
      "دفعت",
      expect.any(String),
      "500 الف ليرة",
      expect.any(String),
      "3",
      expect.any(String),
      "884512",
      filed,
    ]);
  });

  it("on WhatsApp with a photo of the receipt", async () => {
    const account = await createAccount({ code: "4821", holderName: "Nadim Haddad" });
    const r = resident("whatsapp");
    await r.say("hello");
    await r.say("I paid");
    await r.say(account.number);
    await r.say("4821");
    await r.say("85.50 USD");
    await r.say("Whish");
    await r.say("no");
    const photo = { url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", contentType: "image/jpeg" };
    const filed = await r.say("", { media: [photo] });
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference }, include: { paymentReport: true } });
    expect(JSON.parse(ticket.media)).toEqual([photo]);
    expect(ticket.paymentReport).toMatchObject({ currency: "USD", paidAt: "Whish", paymentRef: "" });
    expect(ticket.paymentReport?.amount.toFixed(2)).toBe("85.50");
  });
});
