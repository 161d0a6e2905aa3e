import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replyToTicket, retryDelivery } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld } from "../support/testApp.js";
import { postToTwilioWebhook } from "../support/twilio.js";

let world: World;
let agent: Actor;
beforeAll(async () => {
  world = await createTestWorld();
  agent = await staffMember(world, { username: "karim", departments: ["public_works"] });
});
afterAll(async () => {
  await world.drop();
});

/** A staff reply the worker has handed to Twilio as `sid`. */
async function sentReply(sid: string) {
  const { reference } = await residentFiles(world);
  const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, agent, reference, "On our way"));
  if (!result.ok) throw new Error(result.message);
  const { messageId } = result.delivery;
  const outbox = await world.db.outbox.findUniqueOrThrow({ where: { messageId } });
  await world.db.outbox.update({ where: { id: outbox.id }, data: { status: "sent", providerMessageId: sid } });
  await world.db.message.update({ where: { id: messageId }, data: { status: "sent", providerMessageId: sid } });
  return { messageId, outboxId: outbox.id };
}

const callback = (sid: string, status: string, extra: Record<string, string> = {}, outboxId?: number) =>
  postToTwilioWebhook(
    world.app,
    { MessageSid: sid, SmsSid: sid, MessageStatus: status, AccountSid: "AC0123456789abcdef0123456789abcdef", ApiVersion: "2010-04-01", ...extra },
    { path: `/webhooks/twilio/status${outboxId ? `?outbox=${outboxId}` : ""}` },
  );
const statusOf = async (messageId: number) => world.db.message.findUniqueOrThrow({ where: { id: messageId } });

describe("POST /webhooks/twilio/status", () => {
  it("moves a message forward: sent → delivered → read", async () => {
    const sid = "SM" + "a".repeat(32);
    const { messageId } = await sentReply(sid);
    expect((await callback(sid, "delivered")).status).toBe(204);
    expect((await statusOf(messageId)).status).toBe("delivered");
    await callback(sid, "read");
    expect((await statusOf(messageId)).status).toBe("read");
  });

  it("never moves backwards when callbacks arrive late or out of order, and repeats change nothing", async () => {
    const sid = "SM" + "b".repeat(32);
    const { messageId } = await sentReply(sid);
    await callback(sid, "delivered");
    await callback(sid, "sent");
    await callback(sid, "queued");
    await callback(sid, "delivered");
    expect((await statusOf(messageId)).status).toBe("delivered");
  });

  it("records a failure with Twilio's error code for staff to see", async () => {
    const sid = "SM" + "c".repeat(32);
    const { messageId } = await sentReply(sid);
    await callback(sid, "undelivered", { ErrorCode: "30003", ErrorMessage: "Unreachable destination handset" });
    expect(await statusOf(messageId)).toMatchObject({ status: "undelivered", errorCode: "30003", errorMessage: "Unreachable destination handset" });
  });

  it("finds the message by its outbox id even before the worker recorded Twilio's SID", async () => {
    const sid = "SM" + "d".repeat(32);
    const { messageId, outboxId } = await sentReply("SM" + "0".repeat(32));
    await world.db.outbox.update({ where: { id: outboxId }, data: { status: "sending", providerMessageId: null } });
    await world.db.message.update({ where: { id: messageId }, data: { status: "queued", providerMessageId: null } });
    await callback(sid, "delivered", {}, outboxId);
    expect(await statusOf(messageId)).toMatchObject({ status: "delivered", providerMessageId: sid });
    expect(await world.db.outbox.findUniqueOrThrow({ where: { id: outboxId } })).toMatchObject({ status: "sent", providerMessageId: sid });
  });

  it("an unknown message is acknowledged without changing anything", async () => {
    expect((await callback("SM" + "e".repeat(32), "delivered")).status).toBe(204);
  });

  it("refuses unsigned callbacks and malformed ones", async () => {
    const unsigned = await postToTwilioWebhook(world.app, { MessageSid: "SM" + "f".repeat(32), MessageStatus: "delivered" }, { path: "/webhooks/twilio/status", signature: null });
    expect(unsigned.status).toBe(403);
    const malformed = await callback("nope", "delivered");
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/MessageSid/);
  });

  it("a late failure report about a try before “try again” does not fail the new try", async () => {
    const sid = "SM" + "1".repeat(32);
    const { reference } = await residentFiles(world);
    const result = await world.db.$transaction((tx) => replyToTicket(tx, { ...world.deps.outbox, now: new Date() }, agent, reference, "Try tokens"));
    if (!result.ok) throw new Error(result.message);
    const { messageId } = result.delivery;
    const firstTry = new Date(Date.now() - 60_000);
    const { id: outboxId } = await world.db.outbox.update({ where: { messageId }, data: { status: "sent", providerMessageId: sid, attemptStartedAt: firstTry, attempts: 1 } });
    await world.db.message.update({ where: { id: messageId }, data: { status: "sent", providerMessageId: sid } });
    const withTry = (status: string, attempt: string) =>
      postToTwilioWebhook(
        world.app,
        { MessageSid: sid, SmsSid: sid, MessageStatus: status, ErrorCode: "30003", AccountSid: "AC0123456789abcdef0123456789abcdef" },
        { path: `/webhooks/twilio/status?outbox=${outboxId}&try=${attempt}` },
      );
    expect((await withTry("undelivered", String(firstTry.getTime()))).status).toBe(204);
    expect((await statusOf(messageId)).status).toBe("undelivered");
    expect(await world.db.$transaction((tx) => retryDelivery(tx, { ...world.deps.outbox, now: new Date() }, agent, reference, messageId))).toEqual({ ok: true });
    // Twilio repeats its report about the first try, after staff sent the message again.
    expect((await withTry("failed", String(firstTry.getTime()))).status).toBe(204);
    expect((await callback(sid, "undelivered", { ErrorCode: "30003" }, outboxId)).status).toBe(204);
    expect(await statusOf(messageId)).toMatchObject({ status: "queued", errorCode: null });
    expect(await world.db.outbox.findUniqueOrThrow({ where: { id: outboxId } })).toMatchObject({ status: "pending" });
  });

  it("refuses a malformed try token with 400", async () => {
    for (const attempt of ["abc", "0", "-1", "1e3", "0x10", "1234567890123456", "12&try=13"]) {
      const res = await postToTwilioWebhook(
        world.app,
        { MessageSid: "SM" + "2".repeat(32), MessageStatus: "delivered", AccountSid: "AC0123456789abcdef0123456789abcdef" },
        { path: `/webhooks/twilio/status?outbox=1&try=${attempt}` },
      );
      expect(res.status, attempt).toBe(400);
      expect(res.body.error, attempt).toMatch(/try/);
    }
  });
});
