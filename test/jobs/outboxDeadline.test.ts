import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioSender } from "../../src/channels/twilio/twilioSender.js";
import { drainOutbox, type DrainOutboxDeps } from "../../src/jobs/drainOutbox.js";
import { replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { type FakeTwilio } from "../support/fakeTwilio.js";
import { residentFiles, type World } from "../support/staffWorld.js";
import { startOutboxWorld } from "../support/outboxWorld.js";
import { PUBLIC_BASE_URL, TWILIO_ACCOUNT_SID as ACCOUNT, TWILIO_AUTH_TOKEN as TOKEN } from "../support/twilio.js";

const MINUTE = 60_000;

let world: World;
let rania: Actor;
let fake: FakeTwilio;
let stop: () => Promise<void>;
beforeAll(async () => {
  ({ world, rania, fake, stop } = await startOutboxWorld());
}, 60_000);
afterAll(() => stop());

describe("Twilio cannot be asked whether it got a message", () => {
  it("the worker asks again less and less often, then fails the message as unconfirmed at its deadline", async () => {
    const { reference } = await residentFiles(world);
    const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, rania, reference, "We will call you."));
    if (!result.ok) throw new Error(result.message);
    const warnings: string[] = [];
    let minutes = 0;
    const worker: DrainOutboxDeps = {
      db: world.db,
      logger: pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) }),
      outbox: world.deps.outbox,
      clock: () => new Date(Date.now() + minutes * MINUTE),
      senders: { twilio: twilioSender({ accountSid: ACCOUNT, authToken: TOKEN, smsFrom: "+9611555000", whatsappFrom: undefined, publicBaseUrl: PUBLIC_BASE_URL, apiUrl: fake.url, keepAlive: false, timeoutMs: 300 }) },
    };
    // The send gets no answer (the connection drops after Twilio took it), and from then on Twilio's API fails.
    fake.set({ onSend: () => ({ kind: "acceptThenDrop" }), listFails: true });
    await drainOutbox(worker, new Date());

    // One run every 3 seconds for a whole day would be 28,800 runs; here, a run each simulated
    // minute for two hours, then every quarter of an hour.
    const lists: number[] = [];
    for (minutes = 1; minutes <= 24 * 60 + 15; minutes += minutes < 120 ? 1 : 15) {
      const before = fake.requests.lists;
      await drainOutbox(worker, new Date());
      if (fake.requests.lists > before) lists.push(minutes);
    }
    // Asked with growing gaps (about 2, 4, 8 … minutes apart, at most an hour), not every run.
    expect(lists.length).toBeGreaterThan(5);
    expect(lists.length).toBeLessThan(40);
    const gaps = lists.slice(1).map((m, i) => m - lists[i]!);
    expect(gaps.slice(0, 5)).toEqual([...gaps.slice(0, 5)].sort((a, b) => a - b));
    expect(warnings.length).toBeLessThan(45);

    const message = await world.db.message.findUniqueOrThrow({ where: { id: result.delivery.messageId }, include: { outbox: true } });
    expect(message).toMatchObject({ status: "failed", errorCode: "outbox_unconfirmed", outbox: { status: "failed" } });
    // Twilio did take it once; nothing was sent again.
    expect(fake.accepted.filter((m) => m.outboxId === message.outbox!.id)).toHaveLength(1);
  }, 60_000);
});
