import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, type Inbox } from "../../src/inbox/handleInbound.js";
import { hashPassword } from "../../src/services/passwords.js";
import { inbound } from "../support/builders.js";
import { createTestWorld, inboxDeps, MUNICIPALITY } from "../support/testApp.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
let inbox: Inbox;
let now = new Date("2026-11-29T09:00:00Z");
const tick = () => (now = new Date(now.getTime() + 1000));

beforeAll(async () => {
  world = await createTestWorld();
  inbox = createInbox(inboxDeps(world, { clock: tick }));
});
afterAll(async () => {
  await world.drop();
});

const HOLDER = "عبد الرحمن محمد سليم الحاج حسن";
const REFUSAL = "معلومات الحساب تعطى فقط لرقم الهاتف المسجل على الفاتورة. راسلنا من ذلك الرقم برسالة نصية أو واتساب، أو راجع البلدية.";

async function createAccount(number: string, code: string) {
  return world.db.account.create({
    data: {
      municipalityId: MUNICIPALITY,
      number,
      holderName: HOLDER,
      accountType: "property",
      verificationCodeHash: await hashPassword(code, { N: 2 ** 12, r: 8, p: 1 }),
      balances: { create: [{ currency: "LBP", amountDue: "1250000", dueDate: new Date("2026-12-31T00:00:00Z") }] },
    },
  });
}

/** A WhatsApp Web sender whose number WhatsApp hid and could not be resolved. */
function lidSender(from: string) {
  return async (text: string) => {
    const result = await inbox(inbound({ from, channel: "whatsapp", route: "whatsapp-web", verifiedPhone: false, text }));
    return result.replies.join("\n");
  };
}

const residentIdOf = async (phone: string) =>
  (await world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } } })).id;

describe("a WhatsApp sender without a verified phone", () => {
  it("asking for the balance of an account that exists gets no disclosure and no account data", async () => {
    const account = await createAccount("QE-310001", "4821");
    const from = "lid:123456789012345";
    const say = lidSender(from);

    const replies = [await say("قديش عليّ"), await say(account.number), await say("4821"), await say("كشف حساب"), await say("دفعت")];
    expect(replies[0]).toBe(REFUSAL);
    for (const reply of replies) {
      expect(reply).not.toContain(account.number);
      expect(reply).not.toContain("1,250,000");
      expect(reply).not.toContain("عبد الرحمن");
    }
    const residentId = await residentIdOf(from);
    expect(await world.db.auditEvent.count({ where: { OR: [{ accountId: account.id }, { residentId }] } })).toBe(0);
    expect(await world.db.accountLink.count({ where: { OR: [{ accountId: account.id }, { residentId }] } })).toBe(0);
    expect(await world.db.verificationAttempt.count({ where: { residentId } })).toBe(0);
    expect(await world.db.ticket.count({ where: { residentId } })).toBe(0);
  });

  it("even with an account linked to that id (by staff, say), nothing is disclosed", async () => {
    const account = await createAccount("QE-310002", "4821");
    const from = "lid:223456789012345";
    const say = lidSender(from);
    await say("مرحبا");
    const residentId = await residentIdOf(from);
    await world.db.accountLink.create({ data: { municipalityId: MUNICIPALITY, accountId: account.id, residentId, linkedBy: "staff" } });

    for (const text of ["رصيدي", "balance", "kashf 7sab"]) {
      const reply = await say(text);
      expect(reply).not.toContain(account.number);
      expect(reply).not.toContain("1,250,000");
    }
    expect(await world.db.auditEvent.count({ where: { accountId: account.id } })).toBe(0);
  });

  it("files a request and follows it as usual", async () => {
    const from = "lid:323456789012345";
    const say = lidSender(from);
    await say("بدي إفادة سكن");
    await say("نعم");
    await say("1");
    const filed = await say("1");
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { residentId: await residentIdOf(from) } });
    expect(filed).toContain(String(ticket.reference));
    expect(await say(String(ticket.reference))).toContain(`#${ticket.reference}`);
  });

  it("the same question from a verified phone still starts linking", async () => {
    const reply = await inbox(inbound({ from: "+96171310003", channel: "whatsapp", text: "قديش عليّ" }));
    expect(reply.replies).toEqual(["لعرض حسابك، أرسل رقم الحساب كما هو مطبوع على فاتورة البلدية."]);
  });
});
