import { CompiledQuery } from "kysely";
import { repliesInline, type Route } from "../../channels/routes.js";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import type { ChannelKind } from "../../conversation/types.js";
import { addressOn, deliveryDeadline } from "../../services/outbox.js";
import type { HotQ } from "./connect.js";
import { prepared } from "./prepared.js";

/** The stored message with this provider id on this route and channel (one indexed read). */
const messageByProviderId = prepared((db, p: { route: string; channel: string; providerMessageId: string }) =>
  db
    .selectFrom("Message")
    .select("id")
    .where("route", "=", p.route)
    .where("channel", "=", p.channel)
    .where("providerMessageId", "=", p.providerMessageId)
    // The partial unique index covers inbound rows only (providers may reuse ids for outbound ones).
    .where("direction", "=", "inbound"),
);
const repliesTo = prepared((db, p: { inReplyToId: number }) => db.selectFrom("Message").select("body").where("inReplyToId", "=", p.inReplyToId).orderBy("id"));

/**
 * The replies stored for a message the provider sent before (a redelivery), or null when this
 * message is new. One indexed read when it is new, the usual case.
 */
export async function storedReplies(q: HotQ, message: Pick<InboundMessage, "route" | "channel" | "providerMessageId">): Promise<string[] | null> {
  const original = await messageByProviderId.first(q, { route: message.route, channel: message.channel, providerMessageId: message.providerMessageId });
  if (!original) return null;
  const replies = await repliesTo.all(q, { inReplyToId: original.id });
  return replies.map((r) => r.body);
}

/** PostgreSQL only; written out as Kysely's `sql` template compiled it, so nothing is built per message. */
const ADVISORY_LOCK_SQL = "SELECT 1 FROM pg_advisory_xact_lock(hashtext($1))";

/**
 * PostgreSQL: waits for, then holds until this transaction ends, the advisory lock named `key`
 * (several instances on one database still handle one resident's messages one at a time).
 */
export async function lockUntilCommit(q: HotQ, key: string): Promise<void> {
  await q.executeQuery(CompiledQuery.raw(ADVISORY_LOCK_SQL, [key]));
}

const insertInboundRow = prepared(
  (
    db,
    p: {
      municipalityId: string;
      residentId: number;
      channel: string;
      route: string;
      providerMessageId: string;
      body: string;
      media: string;
      latitude: number | null;
      longitude: number | null;
      locationLabel: string | null;
      now: Date;
    },
  ) =>
    db
      .insertInto("Message")
      .values({
        municipalityId: p.municipalityId,
        residentId: p.residentId,
        direction: "inbound",
        kind: "resident",
        channel: p.channel,
        route: p.route,
        providerMessageId: p.providerMessageId,
        body: p.body,
        media: p.media,
        latitude: p.latitude,
        longitude: p.longitude,
        locationLabel: p.locationLabel,
        status: "received",
        createdAt: p.now,
        updatedAt: p.now,
      })
      .returning("id"),
);

/** Stores the message being handled; the engine's clock is its time. */
export async function insertInbound(q: HotQ, row: { municipalityId: string; residentId: number; message: InboundMessage; now: Date }): Promise<number> {
  const { message, now } = row;
  const inserted = await insertInboundRow.firstOrThrow(q, {
    municipalityId: row.municipalityId,
    residentId: row.residentId,
    channel: message.channel,
    route: message.route,
    providerMessageId: message.providerMessageId,
    body: message.text,
    media: JSON.stringify(message.media),
    latitude: message.location?.latitude ?? null,
    longitude: message.location?.longitude ?? null,
    locationLabel: message.location ? (message.location.label ?? message.location.address ?? null) : null,
    now,
  });
  return inserted.id;
}

const insertReplyRow = prepared(
  (db, p: { municipalityId: string; residentId: number; ticketId: number | null; channel: string; route: string; inReplyToId: number; body: string; status: string; now: Date }) =>
    db
      .insertInto("Message")
      .values({
        municipalityId: p.municipalityId,
        residentId: p.residentId,
        ticketId: p.ticketId,
        direction: "outbound",
        kind: "bot",
        channel: p.channel,
        route: p.route,
        inReplyToId: p.inReplyToId,
        body: p.body,
        status: p.status,
        createdAt: p.now,
        updatedAt: p.now,
      })
      .returning("id"),
);
const insertReplyOutbox = prepared(
  (db, p: { municipalityId: string; messageId: number; residentId: number; channel: string; route: string; toAddress: string; body: string; now: Date; deadlineAt: Date }) =>
    db.insertInto("Outbox").values({
      municipalityId: p.municipalityId,
      messageId: p.messageId,
      residentId: p.residentId,
      channel: p.channel,
      route: p.route,
      toAddress: p.toAddress,
      body: p.body,
      status: "pending",
      nextAttemptAt: p.now,
      deadlineAt: p.deadlineAt,
      createdAt: p.now,
      updatedAt: p.now,
    }),
);

export interface BotReply {
  municipalityId: string;
  residentId: number;
  ticketId: number | null;
  channel: ChannelKind;
  route: Route;
  /** The resident's address on the channel (E.164), where a reply sent through the outbox goes. */
  to: string;
  inReplyToId: number;
  body: string;
  now: Date;
  /** How long a reply sent through the outbox may take (OUTBOX_DEADLINE_HOURS). */
  deadlineMs?: number | undefined;
}

/** Where the bot's answers to an inbound message go: back the way it came. */
export function replyTo(message: InboundMessage, at: { municipalityId: string; residentId: number; inReplyToId: number; now: Date; deadlineMs?: number | undefined }) {
  return { ...at, channel: message.channel, route: message.route, to: message.from };
}

/**
 * The bot's answer (or notice) to an inbound message. On Twilio it rides on the webhook's response
 * and is stored as "replied"; on every other route (the Android gateway, SMPP) the provider is
 * answered at once and the reply is queued in the outbox, in this same transaction, so it goes out
 * exactly when the message it answers is stored.
 */
export async function insertReply(q: HotQ, reply: BotReply): Promise<void> {
  const inline = repliesInline(reply.route);
  const { id: messageId } = await insertReplyRow.firstOrThrow(q, { ...reply, status: inline ? "replied" : "queued" });
  if (inline) return;
  await insertReplyOutbox.run(q, {
    municipalityId: reply.municipalityId,
    messageId,
    residentId: reply.residentId,
    channel: reply.channel,
    route: reply.route,
    toAddress: addressOn(reply.channel, reply.to),
    body: reply.body,
    now: reply.now,
    deadlineAt: deliveryDeadline(reply.now, reply.deadlineMs),
  });
}

/** `updateMessage`'s shapes: a prepared query per set of changed columns (a column left out keeps its value). */
const messageUpdates = {
  body: prepared((db, p: { id: number; body: string; now: Date }) => db.updateTable("Message").set({ body: p.body, updatedAt: p.now }).where("id", "=", p.id)),
  ticketId: prepared((db, p: { id: number; ticketId: number; now: Date }) => db.updateTable("Message").set({ ticketId: p.ticketId, updatedAt: p.now }).where("id", "=", p.id)),
  both: prepared((db, p: { id: number; body: string; ticketId: number; now: Date }) =>
    db.updateTable("Message").set({ body: p.body, ticketId: p.ticketId, updatedAt: p.now }).where("id", "=", p.id),
  ),
  neither: prepared((db, p: { id: number; now: Date }) => db.updateTable("Message").set({ updatedAt: p.now }).where("id", "=", p.id)),
};

/** Changes a stored message: its text (a bill's code blanked out) or the ticket it belongs to. */
export async function updateMessage(q: HotQ, id: number, change: { body?: string; ticketId?: number }, now: Date): Promise<void> {
  // As Kysely's `set`, a field given as undefined is left out.
  const { body, ticketId } = change;
  if (body !== undefined && ticketId !== undefined) await messageUpdates.both.run(q, { id, body, ticketId, now });
  else if (body !== undefined) await messageUpdates.body.run(q, { id, body, now });
  else if (ticketId !== undefined) await messageUpdates.ticketId.run(q, { id, ticketId, now });
  else await messageUpdates.neither.run(q, { id, now });
}

const ticketByReference = prepared((db, p: { municipalityId: string; reference: number }) =>
  db.selectFrom("Ticket").select("id").where("municipalityId", "=", p.municipalityId).where("reference", "=", p.reference),
);

/** The id of the town's ticket with this public reference, or null. */
export async function ticketIdOf(q: HotQ, municipalityId: string, reference: number): Promise<number | null> {
  const row = await ticketByReference.first(q, { municipalityId, reference });
  return row?.id ?? null;
}

const conversationOf = prepared((db, p: { residentId: number }) => db.selectFrom("Conversation").select("state").where("residentId", "=", p.residentId));

/** The stored conversation state (JSON text) of a resident, or null before their first turn. */
export async function conversationState(q: HotQ, residentId: number): Promise<string | null> {
  const row = await conversationOf.first(q, { residentId });
  return row?.state ?? null;
}

const updateConversation = prepared((db, p: { residentId: number; state: string; stateVersion: number; now: Date }) =>
  db.updateTable("Conversation").set({ state: p.state, stateVersion: p.stateVersion, updatedAt: p.now }).where("residentId", "=", p.residentId),
);
const upsertConversation = prepared((db, p: { municipalityId: string; residentId: number; state: string; stateVersion: number; now: Date }) =>
  db
    .insertInto("Conversation")
    .values({ municipalityId: p.municipalityId, residentId: p.residentId, state: p.state, stateVersion: p.stateVersion, createdAt: p.now, updatedAt: p.now })
    .onConflict((oc) => oc.column("residentId").doUpdateSet({ state: p.state, stateVersion: p.stateVersion, updatedAt: p.now })),
);

/** Saves the conversation state after a turn: an update, or the first row. */
export async function saveConversation(
  q: HotQ,
  row: { municipalityId: string; residentId: number; state: string; stateVersion: number; now: Date; existed: boolean },
): Promise<void> {
  if (row.existed) {
    const updated = await updateConversation.run(q, { residentId: row.residentId, state: row.state, stateVersion: row.stateVersion, now: row.now });
    if ((updated.numAffectedRows ?? 0n) > 0n) return;
  }
  await upsertConversation.run(q, { municipalityId: row.municipalityId, residentId: row.residentId, state: row.state, stateVersion: row.stateVersion, now: row.now });
}

const heldFor = prepared((db, p: { residentId: number; channel: string }) =>
  db.selectFrom("Outbox").select(["id", "messageId", "route"]).where("residentId", "=", p.residentId).where("channel", "=", p.channel).where("status", "=", "held"),
);
const lastRouteOn = prepared((db, p: { residentId: number; channel: string }) =>
  db.selectFrom("ChannelIdentity").select("route").where("residentId", "=", p.residentId).where("channel", "=", p.channel).where("lastInboundAt", "is not", null).orderBy("lastInboundAt", "desc").limit(1),
);

/**
 * A WhatsApp message reopens the 24-hour window: staff replies held for it go out now, as a new
 * try with a fresh deadline (a held message may have been refused once, and that must not count).
 * They go the way that message came (the route its identity now records — the inbox touches the
 * identity first): replies held while the resident wrote to Twilio, released by a message to the
 * town's own WhatsApp phone, go out through that phone, where the resident is reachable now;
 * Twilio's window is still closed. Call it after the resident's identity is updated.
 */
export async function releaseHeld(q: HotQ, residentId: number, channel: ChannelKind, now: Date, deadlineMs?: number): Promise<number> {
  // Every WhatsApp message asks (prepared); the updates take lists of ids, so they stay dynamic.
  const held = await heldFor.all(q, { residentId, channel });
  if (held.length === 0) return 0;
  const route = (await lastRouteOn.first(q, { residentId, channel }))?.route;
  const moved = route === undefined ? [] : held.filter((h) => h.route !== route);
  if (route !== undefined && moved.length > 0) {
    // The message keeps the route it travels by: staff see which phone it went from.
    await q.updateTable("Outbox").set({ route }).where("id", "in", moved.map((h) => h.id)).where("status", "=", "held").execute();
    await q.updateTable("Message").set({ route }).where("id", "in", moved.map((h) => h.messageId)).execute();
  }
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
