import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelSender } from "../../src/channels/sender.js";
import { drainOutbox } from "../../src/jobs/drainOutbox.js";
import { hashPassword } from "../../src/services/passwords.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import { actorById } from "../../src/services/staff.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";
import { freshPhone, hire, residentFiles, residentSays, StaffBrowser, type World } from "./staff/staffBrowser.js";

// Issue 7 §6: on the embedded SQLite, bill-code checks (scrypt), staff sign-ins and the outbox worker
// share one connection. Under load at once, none may fail and no write may be lost. (Both databases.)

let world: World;
beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "hala", "rania", "karim", "nadim");
});
afterAll(async () => {
  await world.drop();
});

/** A provider that answers after a little while, as Twilio does, and counts what it accepted. */
function slowProvider(): ChannelSender & { accepted: string[] } {
  const accepted: string[] = [];
  let n = 0;
  return {
    accepted,
    async send(request) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      accepted.push(request.body);
      return { status: "sent", providerMessageId: `SM${String(++n).padStart(32, "0")}` };
    },
    findAccepted: async () => null,
  };
}

describe("code checks, staff sign-ins and the outbox at the same time", () => {
  it("every request is answered, every write lands", async () => {
    const RESIDENTS = 6;
    // Bills hashed like the importer's (scrypt), each resident one step from linking.
    const bills = await Promise.all(
      Array.from({ length: RESIDENTS }, async (_, i) =>
        world.db.account.create({
          data: { municipalityId: MUNICIPALITY, number: `QE-${40000 + i}`, holderName: "Hala Haddad", accountType: "property", verificationCodeHash: await hashPassword(`48${20 + i}`, { N: 2 ** 14, r: 8, p: 1 }) },
        }),
      ),
    );
    const linkers = bills.map(() => freshPhone());
    for (const [i, phone] of linkers.entries()) {
      await residentSays(world.app, phone, "رصيدي");
      await residentSays(world.app, phone, bills[i]!.number);
    }
    // Staff replies waiting in the outbox.
    const rania = (await actorById(world.db, (await world.db.staff.findFirstOrThrow({ where: { username: "rania" } })).id))!;
    const replies: number[] = [];
    for (let i = 0; i < 8; i++) {
      const reference = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام");
      const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, rania, reference, `سنصلحها غداً (${i})`));
      if (!result.ok) throw new Error("reply refused");
      replies.push(result.delivery.messageId);
    }
    const provider = slowProvider();
    const worker = { db: world.db, senders: { twilio: provider }, logger: pino({ level: "silent" }), outbox: world.deps.outbox, batchSize: 3 };

    const statuses: number[] = [];
    const codeChecks = linkers.map((phone, i) => residentSays(world.app, phone, `48${20 + i}`));
    const chatter = Array.from({ length: 6 }, () => residentSays(world.app, freshPhone(), "مرحبا"));
    const signIns = (["hala", "rania", "karim", "nadim"] as const).flatMap((who) =>
      [0, 1].map(async () => {
        const browser = new StaffBrowser(world.app);
        const res = await browser.signIn(who, `${who}-${who === "hala" ? "admin" : "agent"}-pass`);
        statuses.push(res.status);
      }),
    );
    const drains = (async () => {
      for (let round = 0; round < 6; round++) await drainOutbox(worker, new Date());
    })();
    const answers = await Promise.all(codeChecks);
    await Promise.all([...chatter, ...signIns, drains]);

    for (const [i, answer] of answers.entries()) expect(answer).toContain(`تم ربط ${bills[i]!.number}`);
    expect(statuses).toEqual(Array(8).fill(303));
    expect(await world.db.accountLink.count({ where: { accountId: { in: bills.map((b) => b.id) } } })).toBe(RESIDENTS);
    expect(await world.db.staffSession.count()).toBe(8);
    // Every reply the provider accepted is recorded as sent, each exactly once.
    const sent = await world.db.message.findMany({ where: { id: { in: replies } }, select: { status: true, providerMessageId: true } });
    expect(sent.map((m) => m.status)).toEqual(Array(8).fill("sent"));
    expect(new Set(sent.map((m) => m.providerMessageId)).size).toBe(8);
    expect(provider.accepted).toHaveLength(8);
  });
});
