import type { Route } from "../../channels/routes.js";
import type { ChannelKind, Locale } from "../../conversation/types.js";
import type { BotPause, ResumeResult } from "../../services/residents.js";
import { botPauseOf } from "../../services/residents.js";
import type { HotQ } from "./connect.js";
import { prepared } from "./prepared.js";

export interface InboundIdentity {
  municipalityId: string;
  phone: string;
  channel: ChannelKind;
  route: Route;
  profileName?: string | undefined;
  at: Date;
}

/** The columns of a resident the inbox and its guard read. */
const residentColumns = ["id", "locale", "optedOut", "botPausedAt", "botPauseReason", "profileName", "surveyJoinedAt", "surveyLeftAt", "surveyOfferedAt"] as const;

const residentByPhone = prepared((db, p: { municipalityId: string; phone: string }) =>
  db.selectFrom("Resident").select(residentColumns).where("municipalityId", "=", p.municipalityId).where("phone", "=", p.phone),
);
const insertResident = prepared((db, p: { municipalityId: string; phone: string; profileName: string | null; at: Date }) =>
  db
    .insertInto("Resident")
    .values({ municipalityId: p.municipalityId, phone: p.phone, profileName: p.profileName, createdAt: p.at, updatedAt: p.at })
    // Staff (or an import) may have created the resident since the read: take that row.
    .onConflict((oc) => oc.columns(["municipalityId", "phone"]).doUpdateSet({ updatedAt: p.at }))
    .returning(residentColumns),
);
const setProfileName = prepared((db, p: { id: number; profileName: string; at: Date }) =>
  db.updateTable("Resident").set({ profileName: p.profileName, updatedAt: p.at }).where("id", "=", p.id),
);
const touchChannelIdentity = prepared((db, p: { municipalityId: string; residentId: number; channel: string; route: string; address: string; at: Date }) =>
  db
    .insertInto("ChannelIdentity")
    .values({ municipalityId: p.municipalityId, residentId: p.residentId, channel: p.channel, route: p.route, address: p.address, lastInboundAt: p.at, createdAt: p.at })
    // A message older than the last one (caught up after an outage) does not move the time or the route back.
    .onConflict((oc) =>
      oc
        .columns(["municipalityId", "channel", "address"])
        .doUpdateSet({ lastInboundAt: p.at, route: p.route })
        .where((eb) => eb.or([eb("ChannelIdentity.lastInboundAt", "is", null), eb("ChannelIdentity.lastInboundAt", "<=", p.at)])),
    ),
);

/**
 * The resident behind a phone number, created on first contact, with the channel identity they
 * wrote from, the route it came by (their replies go back the same way) and the time of their last
 * message on it (WhatsApp's 24-hour window is counted from it) — both from their latest message,
 * whatever order messages are handled in.
 * A known resident costs one read, plus a write only when their WhatsApp profile name changed.
 */
export async function residentForInbound(q: HotQ, who: InboundIdentity) {
  let resident = await residentByPhone.first(q, { municipalityId: who.municipalityId, phone: who.phone });
  if (!resident) {
    resident = await insertResident.firstOrThrow(q, { municipalityId: who.municipalityId, phone: who.phone, profileName: who.profileName ?? null, at: who.at });
  } else if (who.profileName && who.profileName !== resident.profileName) {
    await setProfileName.run(q, { id: resident.id, profileName: who.profileName, at: who.at });
    resident = { ...resident, profileName: who.profileName };
  }
  await touchChannelIdentity.run(q, { municipalityId: who.municipalityId, residentId: resident.id, channel: who.channel, route: who.route, address: who.phone, at: who.at });
  return resident;
}

/** Records the resident's language. */
export async function setResidentLocale(q: HotQ, residentId: number, locale: Locale, at: Date) {
  await q.updateTable("Resident").set({ locale, updatedAt: at }).where("id", "=", residentId).execute();
}

/** Opt-out (STOP) or back in (START); every sender checks `optedOut` before sending anything. */
export async function setOptOut(q: HotQ, residentId: number, optedOut: boolean, at: Date) {
  await q
    .updateTable("Resident")
    .set(optedOut ? { optedOut: true, optedOutAt: at, updatedAt: at } : { optedOut: false, optedInAt: at, updatedAt: at })
    .where("id", "=", residentId)
    .execute();
}

const recentMessages = prepared((db, p: { residentId: number; since: Date; take: number }) =>
  db
    .selectFrom("Message")
    .select(["id", "direction", "inReplyToId", "body", "createdAt"])
    .where("residentId", "=", p.residentId)
    .where("createdAt", ">=", p.since)
    .where((eb) => eb.or([eb("direction", "=", "inbound"), eb.and([eb("direction", "=", "outbound"), eb("kind", "=", "bot"), eb("inReplyToId", "is not", null)])]))
    .orderBy("createdAt", "desc")
    .orderBy("id", "desc")
    .limit(p.take),
);

/**
 * The resident's latest messages and the bot's replies to them since `since`, newest first, at
 * most `take` rows and only the columns the inbound guard reads (one query on the
 * (residentId, createdAt) index). Staff messages and notifications are not part of it.
 */
export async function recentExchange(q: HotQ, residentId: number, since: Date, take: number) {
  return recentMessages.all(q, { residentId, since, take });
}

/**
 * Pauses the bot for a resident (`pause`) or lets it answer again (null), recording the change in
 * the audit log: by the system when the inbox decides, by a staff member when they resume it.
 */
export async function setBotPause(
  q: HotQ,
  change: { municipalityId: string; residentId: number; pause: BotPause | null; previous: BotPause | null; staffId?: number; now: Date },
) {
  await q
    .updateTable("Resident")
    .set(change.pause ? { botPausedAt: change.pause.since, botPauseReason: change.pause.reason, updatedAt: change.now } : { botPausedAt: null, botPauseReason: null, updatedAt: change.now })
    .where("id", "=", change.residentId)
    .execute();
  const about = change.pause ?? change.previous;
  await q
    .insertInto("AuditEvent")
    .values({
      municipalityId: change.municipalityId,
      actorType: change.staffId === undefined ? "system" : "staff",
      actorId: change.staffId ?? null,
      residentId: change.residentId,
      kind: change.pause ? "bot_paused" : "bot_resumed",
      data: JSON.stringify({ reason: about?.reason ?? null, ...(change.previous && !change.pause ? { pausedAt: change.previous.since.toISOString() } : {}) }),
      createdAt: change.now,
    })
    .execute();
}

/**
 * A staff member (or, with `staffId` null, the system) lets the bot answer a paused resident
 * again. Their messages stored while paused stay as they are; the per-phone budget still counts
 * them, so a phone still flooding is paused again by its next messages.
 */
export async function resumeBot(q: HotQ, request: { municipalityId: string; residentId: number; staffId: number | null; now: Date }): Promise<ResumeResult> {
  const resident = await q
    .selectFrom("Resident")
    .select(["botPausedAt", "botPauseReason"])
    .where("id", "=", request.residentId)
    .where("municipalityId", "=", request.municipalityId)
    .executeTakeFirst();
  if (!resident) return { ok: false, error: "not_found" };
  const previous = botPauseOf(resident);
  if (!previous) return { ok: false, error: "not_paused" };
  await setBotPause(q, {
    municipalityId: request.municipalityId,
    residentId: request.residentId,
    pause: null,
    previous,
    ...(request.staffId === null ? {} : { staffId: request.staffId }),
    now: request.now,
  });
  return { ok: true, reason: previous.reason };
}
