import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inbound } from "../support/builders.js";
import { createTestWorld } from "../support/testApp.js";

// Messages are not always handled in the order they were written: the town's WhatsApp phone hands
// over what came during an outage when it reconnects, hours later. The resident's channel record
// keeps their latest message: its time (WhatsApp's 24-hour window) and its route (the way replies go).

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(() => world.drop());

const HOUR = 3600_000;

describe("a message handled late", () => {
  it("does not move the resident's last message time or route back", async () => {
    const from = "+96171555001";
    const now = Date.now();
    // The resident wrote to Twilio's WhatsApp number a minute ago…
    await world.inbox(inbound({ from, channel: "whatsapp", route: "twilio", text: "marhaba", receivedAt: new Date(now - 60_000) }));
    // …and, two hours ago, to the town's own phone, handed over only now.
    await world.inbox(inbound({ from, channel: "whatsapp", route: "whatsapp-web", providerMessageId: "false_96171555001@c.us_3AOLD", text: "fi mechkle", receivedAt: new Date(now - 2 * HOUR) }));
    const identity = await world.db.channelIdentity.findFirstOrThrow({ where: { address: from, channel: "whatsapp" } });
    expect(identity).toMatchObject({ route: "twilio", lastInboundAt: new Date(now - 60_000) });

    // A newer message moves both on, as always.
    await world.inbox(inbound({ from, channel: "whatsapp", route: "whatsapp-web", providerMessageId: "false_96171555001@c.us_3ANEW", text: "1", receivedAt: new Date(now) }));
    expect(await world.db.channelIdentity.findFirstOrThrow({ where: { address: from, channel: "whatsapp" } })).toMatchObject({ route: "whatsapp-web", lastInboundAt: new Date(now) });
  });
});
