import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox, type Inbox } from "../../src/inbox/handleInbound.js";
import { hashPassword, verifyPassword } from "../../src/services/passwords.js";
import { inbound } from "../support/builders.js";
import { createTestWorld, inboxDeps, MUNICIPALITY } from "../support/testApp.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;

/** The hashing threads, held busy until a test lets them finish. */
let hashing: { started: () => void; finish: Promise<void> } | null = null;
const slowVerify = async (code: string, hash: string) => {
  if (hashing) {
    hashing.started();
    await hashing.finish;
  }
  return verifyPassword(code, hash);
};

function holdHashing() {
  let started!: () => void;
  let finish!: () => void;
  const isHashing = new Promise<void>((resolve) => (started = resolve));
  hashing = { started, finish: new Promise<void>((resolve) => (finish = resolve)) };
  return {
    isHashing,
    finish: () => {
      hashing = null;
      finish();
    },
  };
}

let inbox: Inbox;
beforeAll(async () => {
  world = await createTestWorld();
  inbox = createInbox(inboxDeps(world, { verifyCode: slowVerify }));
});
afterAll(async () => {
  await world.drop();
});

const CHEAP = { N: 2 ** 12, r: 8, p: 1 };
let counter = 0;
async function account(code: string) {
  return world.db.account.create({
    data: { municipalityId: MUNICIPALITY, number: `QE-${300000 + ++counter}`, holderName: "Hala Haddad", accountType: "property", verificationCodeHash: await hashPassword(code, CHEAP) },
  });
}
const say = async (from: string, text: string) => (await inbox(inbound({ from, channel: "sms", text }))).replies.join("\n");
/** Settles to "still waiting" if `work` has not finished after `ms`: something it needs is held. */
const within = <T,>(work: Promise<T>, ms: number) => Promise.race([work, new Promise<"still waiting">((resolve) => setTimeout(() => resolve("still waiting"), ms))]);

describe("a bill's code is checked outside the inbox's transaction", () => {
  it("while one resident's code is being hashed, another resident is answered and staff writes land", async () => {
    const bill = await account("4821");
    await say("+96171300001", "رصيدي");
    await say("+96171300001", bill.number);
    const held = holdHashing();
    const linking = say("+96171300001", "4821");
    await held.isHashing;

    // Nothing waits for the hashing: no transaction is open while it runs.
    expect(await within(say("+96171300002", "مرحبا"), 5_000)).not.toBe("still waiting");
    expect(await within(world.db.department.create({ data: { municipalityId: MUNICIPALITY, code: "parks_test", nameAr: "الحدائق", nameEn: "Parks" } }).then(() => "done"), 5_000)).toBe("done");

    held.finish();
    expect(await linking).toContain(`تم ربط ${bill.number}`);
    expect(await world.db.accountLink.count({ where: { accountId: bill.id } })).toBe(1);
  });

  it("the code is checked again when an import changes the account's code during the check", async () => {
    const bill = await account("4821");
    await say("+96171300003", "رصيدي");
    await say("+96171300003", bill.number);
    const held = holdHashing();
    const linking = say("+96171300003", "4821");
    await held.isHashing;
    // Tonight's import: the bill now carries a new code.
    await world.db.account.update({ where: { id: bill.id }, data: { verificationCodeHash: await hashPassword("7390", CHEAP) } });
    held.finish();

    expect(await linking).toBe("رقم الحساب والرمز غير متطابقين. راجع الفاتورة وأرسل رقم الحساب من جديد، أو 0 للقائمة.");
    expect(await world.db.accountLink.count({ where: { accountId: bill.id } })).toBe(0);
    // One attempt recorded, not one per round.
    expect(await world.db.verificationAttempt.count({ where: { accountNumber: bill.number } })).toBe(1);
  });
});
