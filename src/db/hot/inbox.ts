import { sql } from "kysely";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import type { ChannelKind } from "../../conversation/types.js";
import { deliveryDeadline } from "../../services/outbox.js";
import type { HotQ } from "./connect.js";

/**
 * The replies stored for a message the provider sent before (a redelivery), or null when this
 * message is new. One indexed read when it is new, the usual case.
 */
export async function storedReplies(q: HotQ, message: Pick<InboundMessage, "channel" | "providerMessageId">): Promise<string[] | null> {
  const original = await q
    .selectFrom("Message")
    .select("id")
    .where("channel", "=", message.channel)
    .where("providerMessageId", "=", message.providerMessageId)
    .executeTakeFirst();
  if (!original) return null;
  const replies = await q.selectFrom("Message").select("body").where("inReplyToId", "=", original.id).orderBy("id").execute();
  return replies.map((r) => r.body);
}

/**
 * PostgreSQL: waits for, then holds until this transaction ends, the advisory lock named `key`
 * (several instances on one database still handle one resident's messages one at a time).
 */
export async function lockUntilCommit(q: HotQ, key: string): Promise<void> {
  await sql`SELECT 1 FROM pg_advisory_xact_lock(hashtext(${key}))`.execute(q);
}

/** True when the database refused a row because its unique key is taken (another process was first). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // SQLite (better-sqlite3), PostgreSQL (pg), and Prisma.
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505" || code === "P2002";
}

/** Stores the message being handled; the engine's clock is its time. */
export async function insertInbound(q: HotQ, row: { municipalityId: string; residentId: number; message: InboundMessage; now: Date }): Promise<number> {
  const { message, now } = row;
  const inserted = await q
    .insertInto("Message")
    .values({
      municipalityId: row.municipalityId,
      residentId: row.residentId,
      direction: "inbound",
      kind: "resident",
      channel: message.channel,
      providerMessageId: message.providerMessageId,
      body: message.text,
      media: JSON.stringify(message.media),
      latitude: message.location?.latitude ?? null,
      longitude: message.location?.longitude ?? null,
      locationLabel: message.location ? (message.location.label ?? message.location.address ?? null) : null,
      status: "received",
      createdAt: now,
      updatedAt: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return inserted.id;
}

/** The bot's answer (or notice) to an inbound message, stored as sent in the webhook's response. */
export async function insertReply(
  q: HotQ,
  row: { municipalityId: string; residentId: number; ticketId: number | null; channel: ChannelKind; inReplyToId: number; body: string; now: Date },
): Promise<void> {
  await q
    .insertInto("Message")
    .values({
      municipalityId: row.municipalityId,
      residentId: row.residentId,
      ticketId: row.ticketId,
      direction: "outbound",
      kind: "bot",
      channel: row.channel,
      inReplyToId: row.inReplyToId,
      body: row.body,
      status: "replied",
      createdAt: row.now,
      updatedAt: row.now,
    })
    .execute();
}

/** Changes a stored message: its text (a bill's code blanked out) or the ticket it belongs to. */
export async function updateMessage(q: HotQ, id: number, change: { body?: string; ticketId?: number }, now: Date): Promise<void> {
  await q
    .updateTable("Message")
    .set({ ...change, updatedAt: now })
    .where("id", "=", id)
    .execute();
}

/** The id of the town's ticket with this public reference, or null. */
export async function ticketIdOf(q: HotQ, municipalityId: string, reference: number): Promise<number | null> {
  const row = await q.selectFrom("Ticket").select("id").where("municipalityId", "=", municipalityId).where("reference", "=", reference).executeTakeFirst();
  return row?.id ?? null;
}

/** The stored conversation state (JSON text) of a resident, or null before their first turn. */
export async function conversationState(q: HotQ, residentId: number): Promise<string | null> {
  const row = await q.selectFrom("Conversation").select("state").where("residentId", "=", residentId).executeTakeFirst();
  return row?.state ?? null;
}

/** Saves the conversation state after a turn: an update, or the first row. */
export async function saveConversation(
  q: HotQ,
  row: { municipalityId: string; residentId: number; state: string; stateVersion: number; now: Date; existed: boolean },
): Promise<void> {
  if (row.existed) {
    const updated = await q
      .updateTable("Conversation")
      .set({ state: row.state, stateVersion: row.stateVersion, updatedAt: row.now })
      .where("residentId", "=", row.residentId)
      .executeTakeFirst();
    if (updated.numUpdatedRows > 0n) return;
  }
  await q
    .insertInto("Conversation")
    .values({ municipalityId: row.municipalityId, residentId: row.residentId, state: row.state, stateVersion: row.stateVersion, createdAt: row.now, updatedAt: row.now })
    .onConflict((oc) => oc.column("residentId").doUpdateSet({ state: row.state, stateVersion: row.stateVersion, updatedAt: row.now }))
    .execute();
}

/**
 * A WhatsApp message reopens the 24-hour window: staff replies held for it go out now, as a new
 * try with a fresh deadline (a held message may have been refused once, and that must not count).
 */
export async function releaseHeld(q: HotQ, residentId: number, channel: ChannelKind, now: Date, deadlineMs?: number): Promise<number> {
  const held = await q.selectFrom("Outbox").select(["id", "messageId"]).where("residentId", "=", residentId).where("channel", "=", channel).where("status", "=", "held").execute();
  if (held.length === 0) return 0;
  await q
    .updateTable("Outbox")
    .set({ status: "pending", nextAttemptAt: now, deadlineAt: deliveryDeadline(now, deadlineMs), leaseUntil: null, attemptStartedAt: null, updatedAt: now })
    .where("id", "in", held.map((h) => h.id))
    .where("status", "=", "held")
    .execute();
  await q
    .updateTable("Message")
    .set({ status: "queued", errorCode: null, updatedAt: now })
    .where("id", "in", held.map((h) => h.messageId))
    .execute();
  return held.length;
}
