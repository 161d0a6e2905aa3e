import type { Actor } from "../../src/services/staff.js";
import { startFakeTwilio, type FakeTwilio } from "./fakeTwilio.js";
import { staffMember, type World } from "./staffWorld.js";
import { createTestWorld } from "./testApp.js";
import { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from "./twilio.js";

/**
 * The outbox's tests' world: a fresh database with the real app, Rania of public works to reply,
 * and a local fake Twilio for the worker to send through. `stop()` closes both.
 */
export async function startOutboxWorld(): Promise<{ world: World; rania: Actor; fake: FakeTwilio; stop: () => Promise<void> }> {
  const world = await createTestWorld();
  const rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
  const fake = await startFakeTwilio({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN });
  return {
    world,
    rania,
    fake,
    stop: async () => {
      await fake.close();
      await world.drop();
    },
  };
}
