import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { twilioSender } from "../../src/channels/twilio/twilioSender.js";
import { drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { type FakeTwilio, type SendBehaviour } from "../support/fakeTwilio.js";
import { residentFiles, type World } from "../support/staffWorld.js";
import { startOutboxWorld } from "../support/outboxWorld.js";
import { PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID as ACCOUNT, TWILIO_AUTH_TOKEN as TOKEN } from "../support/twilio.js";

// Short, real-time numbers so that twenty runs take seconds: a send gives up after 250 ms, a claim
// lasts 600 ms (longer than any send may take), an unanswered send is checked 300 ms later.
const TIMEOUT_MS = 250;
const LEASE_MS = 600;
const RETRY_MS = 300;

let world: World;
let rania: Actor;
let fake: FakeTwilio;
let stop: () => Promise<void>;
let references: number[] = [];

beforeAll(async () => {
  ({ world, rania, fake, stop } = await startOutboxWorld());
  references = [];
  for (let i = 0; i < 4; i++) references.push((await residentFiles(world)).reference);
}, 60_000);
afterAll(() => stop());
afterEach(() => {
  // Twilio's list as documented: no status_callback, so matching is on the text.
  fake.set({ onSend: undefined, listDelayMs: 0, listStatusCallback: false, smartEncoding: false, listFails: false });
});

/** One instance of the service: its own Twilio client, the shared database. */
function instance(overrides: Partial<DrainOutboxDeps> = {}): DrainOutboxDeps {
  return {
    db: world.db,
    logger: pino({ level: process.env.OUTBOX_TEST_LOG ?? "silent" }),
    outbox: world.deps.outbox,
    senders: { twilio: twilioSender({ accountSid: ACCOUNT, authToken: TOKEN, smsFrom: "+9611555000", whatsappFrom: "whatsapp:+9611555001", publicBaseUrl: PUBLIC_BASE_URL, apiUrl: fake.url, keepAlive: false, timeoutMs: TIMEOUT_MS }) },
    leaseMs: LEASE_MS,
    retryDelayMs: () => RETRY_MS,
    concurrency: 4,
    ...overrides,
  };
}

async function staffReply(reference: number, body: string) {
  const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, rania, reference, body));
  if (!result.ok) throw new Error(result.message);
  return (await world.db.outbox.findUniqueOrThrow({ where: { messageId: result.delivery.messageId } })).id;
}

const settled = (ids: number[]) => world.db.outbox.count({ where: { id: { in: ids }, status: { in: ["sent", "failed", "cancelled"] } } });

/** Both instances drain side by side, over and over, until every row has an outcome. */
async function runTwoInstances(ids: number[], a: DrainOutboxDeps, b: DrainOutboxDeps, limitMs = 15_000) {
  const start = Date.now();
  while ((await settled(ids)) < ids.length && Date.now() - start < limitMs) {
    await Promise.all([drainOutbox(a, new Date()), drainOutbox(b, new Date())]);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Twilio on a bad day: slow answers, answers slower than our patience (accepted all the same),
// 502s after accepting, connections dropped before and after accepting.
const badDay = (n: number): SendBehaviour => {
  if (n % 5 === 0) return { kind: "acceptThen5xx", status: 502, delayMs: 10 };
  if (n % 7 === 0) return { kind: "accept", delayMs: TIMEOUT_MS + 60 };
  if (n % 11 === 0) return { kind: "acceptThenDrop" };
  if (n % 13 === 0) return { kind: "drop" };
  return { kind: "accept", delayMs: (n % 4) * 25 };
};

describe("two instances on one database, Twilio slow and flaky", () => {
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))("run %i: every staff reply reaches the resident exactly once", async (run) => {
    fake.set({ onSend: badDay, listDelayMs: 40 });
    const ids: number[] = [];
    for (const reference of references) {
      ids.push(await staffReply(reference, `Run ${run}: the crew is on its way.`));
      ids.push(await staffReply(reference, `Run ${run}: they will arrive before noon.`));
    }
    await runTwoInstances(ids, instance(), instance());

    const perOutbox = fake.acceptedPerOutbox();
    expect(ids.map((id) => perOutbox.get(id) ?? 0)).toEqual(ids.map(() => 1));
    const rows = await world.db.outbox.findMany({ where: { id: { in: ids } }, include: { message: true } });
    for (const row of rows) {
      expect(row.status).toBe("sent");
      expect(row.message.status).toBe("sent");
      // What we recorded is what Twilio accepted for this row.
      expect(fake.accepted.find((m) => m.sid === row.providerMessageId)?.outboxId).toBe(row.id);
    }
  });

  it("two instances reconciling the same abandoned rows send each once", async () => {
    // One instance hears back from Twilio's list quickly, the other slowly; sends take a while.
    fake.set({ listDelayMs: (n) => (n % 2 === 0 ? 10 : 70), onSend: () => ({ kind: "accept", delayMs: 100 }) });
    const ids: number[] = [];
    for (const reference of references) ids.push(await staffReply(reference, "Abandoned mid-send."));
    // A crashed instance claimed them long ago and never recorded an answer.
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await world.db.outbox.updateMany({ where: { id: { in: ids } }, data: { status: "sending", attempts: 1, claimId: "crashed", attemptStartedAt: longAgo, leaseUntil: new Date(longAgo.getTime() + 120_000) } });
    await runTwoInstances(ids, instance({ leaseMs: 2000 }), instance({ leaseMs: 2000 }));
    const perOutbox = fake.acceptedPerOutbox();
    expect(ids.map((id) => perOutbox.get(id) ?? 0)).toEqual(ids.map(() => 1));
  });
});

describe("an answer that may hide an accepted message", () => {
  it("a 502 after Twilio accepted: the worker checks Twilio's list and records it instead of sending again", async () => {
    // A list that does name the row (a mock echoing status_callback): matched on the outbox id and try.
    fake.set({ listStatusCallback: true });
    const [id] = [await staffReply(references[0]!, "Water is back tonight.")];
    fake.set({ onSend: () => ({ kind: "acceptThen5xx", status: 502 }) });
    const worker = instance();
    await drainOutbox(worker, new Date());
    let row = await world.db.outbox.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: "sending", attempts: 1 });
    fake.set({ onSend: undefined });
    await runTwoInstances([id!], worker, instance());
    row = await world.db.outbox.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: "sent", attempts: 1 });
    expect(fake.acceptedPerOutbox().get(id!)).toBe(1);
  });

  it("a timeout on the last allowed attempt is reconciled, not marked failed", async () => {
    const id = await staffReply(references[1]!, "Your request is being handled.");
    fake.set({ onSend: () => ({ kind: "accept", delayMs: TIMEOUT_MS + 50 }) });
    const worker = instance({ maxAttempts: 1 });
    await drainOutbox(worker, new Date());
    expect(await world.db.outbox.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "sending" });
    await runTwoInstances([id], worker, instance({ maxAttempts: 1 }));
    expect(await world.db.outbox.findUniqueOrThrow({ where: { id }, include: { message: true } })).toMatchObject({ status: "sent", message: { status: "sent" } });
    expect(fake.acceptedPerOutbox().get(id)).toBe(1);
  });

  it("Twilio's list without callback URLs and with Smart Encoding: the re-encoded text still matches", async () => {
    fake.set({ smartEncoding: true, listStatusCallback: false });
    const text = "“Tomorrow” — the crew comes… at 9";
    const id = await staffReply(references[2]!, text);
    fake.set({ onSend: () => ({ kind: "acceptThenDrop" }) });
    const worker = instance();
    await drainOutbox(worker, new Date());
    fake.set({ onSend: undefined });
    await runTwoInstances([id], worker, instance());
    expect(fake.accepted.filter((m) => m.outboxId === id)).toHaveLength(1);
    expect(fake.accepted.find((m) => m.outboxId === id)?.body).toBe('"Tomorrow" - the crew comes... at 9');
    expect(await world.db.outbox.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "sent" });
  });
});
