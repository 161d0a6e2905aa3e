import { isAtRest, parseState, reopenOfferState, STATE_VERSION } from "../conversation/state.js";
import { StaffText, TICKET_STATUSES, type ChannelKind, type Locale, type TicketStatus } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";
import { enqueueOutbound, isFailed, requeueFailed, type Enqueued, type OutboxContext, type RequeueRefusal } from "./outbox.js";
import { canAccessTicket, type Actor } from "./staff.js";

/** An action staff may not take, or cannot take as asked: a value, mapped to 403/404/400 at the edge. */
export type ActionError =
  | { ok: false; error: "not_found"; message: string }
  | { ok: false; error: "forbidden"; message: string }
  | { ok: false; error: "invalid"; message: string };

export type ActionResult<T = object> = ({ ok: true } & T) | ActionError;

const notFound = (reference: number): ActionError => ({ ok: false, error: "not_found", message: `No ticket #${reference}` });
const invalid = (message: string): ActionError => ({ ok: false, error: "invalid", message });

/** Statuses in which the resident is told the outcome and how to reopen. */
export const NOTIFIED: ReadonlySet<TicketStatus> = new Set<TicketStatus>(["resolved", "closed"]);
const MAX_REPLY = 1600; // Twilio's limit for one message body

/**
 * The ticket an actor asked for, if they may work it. Someone else's department is "not found"
 * too, so an agent cannot learn which references exist by trying URLs.
 */
export async function ticketForActor(tx: Tx, actor: Actor, reference: number) {
  const ticket = await tx.ticket.findUnique({
    where: { municipalityId_reference: { municipalityId: actor.municipalityId, reference } },
  });
  if (!ticket || !canAccessTicket(actor, ticket)) return null;
  return ticket;
}

async function record(tx: Tx, ticketId: number, actor: Actor, kind: string, data: Record<string, unknown>, now: Date) {
  await tx.ticketEvent.create({ data: { ticketId, actorType: "staff", actorId: actor.id, kind, data: JSON.stringify(data), createdAt: now } });
}

/**
 * Why a reply cannot be written at all; the ticket page explains it (open311Ticket.json `reply.refused.*`).
 * "no_resident": a request filed through Open311 without a phone number has nobody to reply to.
 */
export type ReplyRefusal = "no_resident";
export type ReplyResult = ActionResult<{ delivery: Enqueued }> | { ok: false; error: "refused"; reason: ReplyRefusal; message: string };

/**
 * The channel a resident is written to about a ticket: WhatsApp for a WhatsApp ticket, SMS for
 * everything else (an SMS ticket, or one another tool filed through Open311 with their phone).
 */
const replyChannel = (ticket: { channel: string }): ChannelKind => (ticket.channel === "whatsapp" ? "whatsapp" : "sms");

/**
 * Staff reply to the resident on the channel they used, in whatever language staff wrote. Goes
 * through the outbox (held outside WhatsApp's window, not sent to opted-out residents); a new or
 * waiting ticket moves to "in progress". Refused (`no_resident`) for a ticket without a resident.
 */
export async function replyToTicket(tx: Tx, ctx: OutboxContext, actor: Actor, reference: number, body: string): Promise<ReplyResult> {
  const text = body.trim();
  if (!text) return invalid("The reply is empty");
  if (text.includes("\u0000")) return invalid("The text contains a NUL character");
  if (text.length > MAX_REPLY) return invalid(`The reply is longer than ${MAX_REPLY} characters`);
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return notFound(reference);
  if (ticket.residentId === null) {
    return { ok: false, error: "refused", reason: "no_resident", message: `Ticket #${reference} came through Open311 without a phone number: there is nobody to reply to` };
  }
  const delivery = await enqueueOutbound(tx, ctx, {
    residentId: ticket.residentId,
    ticketId: ticket.id,
    reference: ticket.reference,
    channel: replyChannel(ticket),
    kind: "staff",
    body: text,
    staffId: actor.id,
  });
  await record(tx, ticket.id, actor, "reply", { messageId: delivery.messageId, delivery: delivery.status }, ctx.now);
  // Staff have answered: the resident waits no longer, and the first answer is remembered. Moving the
  // ticket to "in progress" is a staff status change, which ends its "reopened" mark.
  const moves = ticket.status === "new" || ticket.status === "waiting_staff";
  await tx.ticket.update({
    where: { id: ticket.id },
    data: { firstResponseAt: ticket.firstResponseAt ?? ctx.now, waitingSince: null, ...(moves ? { status: "in_progress", reopenedAt: null } : {}) },
  });
  if (moves) await record(tx, ticket.id, actor, "status_changed", { from: ticket.status, to: "in_progress" }, ctx.now);
  return { ok: true, delivery };
}

/** An internal note on the ticket: part of its history, never sent to the resident. */
export async function addNote(tx: Tx, actor: Actor, reference: number, note: string, now: Date): Promise<ActionResult> {
  const text = note.trim();
  if (!text) return invalid("The note is empty");
  if (text.includes("\u0000")) return invalid("The text contains a NUL character");
  if (text.length > 5000) return invalid("The note is longer than 5000 characters");
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return notFound(reference);
  await record(tx, ticket.id, actor, "note", { text }, now);
  return { ok: true };
}

/**
 * Assigns the ticket to a staff member who may work it (the actor themselves or a colleague), or
 * unassigns it with null.
 */
export async function assignTicket(tx: Tx, actor: Actor, reference: number, assigneeId: number | null, now: Date): Promise<ActionResult> {
  // Ids are 32-bit in PostgreSQL: a larger number is nobody, not a database error.
  if (assigneeId !== null && (!Number.isSafeInteger(assigneeId) || assigneeId > 2_147_483_647)) return invalid("That person cannot work this ticket");
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return notFound(reference);
  if (assigneeId !== null) {
    const assignee = await tx.staff.findUnique({ where: { id: assigneeId }, include: { departments: true } });
    const eligible =
      assignee?.active &&
      assignee.municipalityId === actor.municipalityId &&
      (assignee.role === "admin" || (ticket.department !== null && assignee.departments.some((d) => d.departmentCode === ticket.department)));
    if (!eligible) return invalid("That person cannot work this ticket");
  }
  if (ticket.assigneeId === assigneeId) return { ok: true };
  await tx.ticket.update({ where: { id: ticket.id }, data: { assigneeId } });
  await record(tx, ticket.id, actor, "assigned", { from: ticket.assigneeId, to: assigneeId }, now);
  return { ok: true };
}

/** Moves a ticket to another category and/or department. */
export async function recategorize(
  tx: Tx,
  actor: Actor,
  reference: number,
  change: { categoryCode?: string | null; department?: string | null },
  now: Date,
): Promise<ActionResult> {
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return notFound(reference);
  let categoryId = ticket.categoryId;
  let department = ticket.department;
  if (change.categoryCode !== undefined) {
    if (change.categoryCode === null) categoryId = null;
    else {
      const category = await tx.category.findUnique({ where: { municipalityId_code: { municipalityId: actor.municipalityId, code: change.categoryCode } } });
      if (!category) return invalid(`Unknown category ${change.categoryCode}`);
      categoryId = category.id;
      // A new category brings its department unless one was chosen explicitly.
      if (change.department === undefined) department = category.department;
    }
  }
  if (change.department !== undefined && change.department !== null) {
    const exists = await tx.department.findUnique({ where: { municipalityId_code: { municipalityId: actor.municipalityId, code: change.department } } });
    if (!exists) return invalid(`Unknown department ${change.department}`);
    department = change.department;
  }
  if (categoryId === ticket.categoryId && department === ticket.department) return { ok: true };
  // An assignee who does not work the new department could no longer open the ticket.
  let assigneeId = ticket.assigneeId;
  if (assigneeId !== null && department !== ticket.department) {
    const assignee = await tx.staff.findUnique({ where: { id: assigneeId }, include: { departments: true } });
    const stillEligible = assignee?.role === "admin" || (department !== null && assignee?.departments.some((d) => d.departmentCode === department));
    if (!stillEligible) assigneeId = null;
  }
  await tx.ticket.update({ where: { id: ticket.id }, data: { categoryId, department, assigneeId } });
  if (assigneeId !== ticket.assigneeId) await record(tx, ticket.id, actor, "assigned", { from: ticket.assigneeId, to: null, reason: "department_changed" }, now);
  await record(tx, ticket.id, actor, "category_changed", { fromCategoryId: ticket.categoryId, toCategoryId: categoryId, fromDepartment: ticket.department, toDepartment: department }, now);
  return { ok: true };
}

/** The longest public note staff may write with a status change (Open311's status_notes). */
export const MAX_PUBLIC_NOTE = 1000;

/** Why a public note is refused; the ticket page explains it (open311Staff.json `publicNote.errors.*`). */
export type PublicNoteRefusal = "too_long" | "control_characters" | "invisible";

/**
 * A public note as staff typed it: trimmed; nothing (absent, empty or blank) is no note. Refused
 * when it is longer than MAX_PUBLIC_NOTE, holds control characters other than line breaks and
 * tabs, or is only invisible characters.
 */
export function readPublicNote(raw: string | undefined): { ok: true; note: string | null } | { ok: false; reason: PublicNoteRefusal } {
  if (raw === undefined || raw.trim() === "") return { ok: true, note: null };
  // A browser sends a form's line breaks as CRLF but counts them as one character: so do we.
  const parsed = StaffText(MAX_PUBLIC_NOTE).safeParse(raw.replace(/\r\n?/g, "\n"));
  if (parsed.success) return { ok: true, note: parsed.data };
  const issue = parsed.error.issues[0];
  if (issue?.code === "too_big") return { ok: false, reason: "too_long" };
  return { ok: false, reason: issue?.message === "control_characters" ? "control_characters" : "invisible" };
}

const PUBLIC_NOTE_REFUSALS: Record<PublicNoteRefusal, string> = {
  too_long: `The public note is longer than ${MAX_PUBLIC_NOTE} characters`,
  control_characters: "The public note contains control characters",
  invisible: "The public note has no visible text",
};

/**
 * What a status change did: `changed` the status (and stored the note with it), `noted` (the same
 * status with a note: a `public_note` event, nobody notified), `unchanged` (the same status, no
 * note: nothing written), or `confirm` (asked to check first, and the change would tell the
 * resident: nothing written, `notice` says what they would be told).
 */
export type StatusOutcome = "changed" | "noted" | "unchanged" | "confirm";

/** What the resident would be told, and how, if a ticket were resolved or closed now. */
export interface StatusNotice {
  body: string;
  channel: ChannelKind;
  locale: Locale;
  /** The resident opted out (sent STOP): nothing will actually be sent. */
  optedOut: boolean;
}

/**
 * Changes a ticket's status. Resolving or closing tells the resident, in their language and on their
 * channel, with the reference and how to reopen; their conversation then offers "1" to reopen. A
 * ticket without a resident (filed through Open311 without a phone number) tells nobody: the public
 * note is what the client's users read.
 *
 * `publicNote` (see `readPublicNote`) is what the town says publicly about the change: Open311's
 * `status_notes`. It is stored in the `status_changed` event, and never sent to the resident. The
 * same status with a note records a `public_note` event and notifies nobody.
 *
 * With `askFirst`, a change that would tell the resident something is not made: the outcome is
 * `confirm`, with the notice they would get (the staff page's confirmation step). Any change clears
 * the ticket's `reopenedAt`; resolving or closing clears `waitingSince`.
 */
export async function changeStatus(
  tx: Tx,
  ctx: OutboxContext,
  actor: Actor,
  reference: number,
  status: string,
  publicNote?: string,
  options: { askFirst?: boolean } = {},
): Promise<ActionResult<{ outcome: StatusOutcome; delivery?: Enqueued; notice?: StatusNotice }>> {
  const next = TICKET_STATUSES.find((s) => s === status);
  if (!next) return invalid(`Unknown status ${status}`);
  const note = readPublicNote(publicNote);
  if (!note.ok) return invalid(PUBLIC_NOTE_REFUSALS[note.reason]);
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return notFound(reference);
  if (ticket.status === next) {
    if (note.note === null) return { ok: true, outcome: "unchanged" };
    await record(tx, ticket.id, actor, "public_note", { text: note.note }, ctx.now);
    return { ok: true, outcome: "noted" };
  }
  const notice = NOTIFIED.has(next) && ticket.residentId !== null ? await statusNotice(tx, ctx, { ...ticket, residentId: ticket.residentId }, next) : null;
  if (notice && options.askFirst) return { ok: true, outcome: "confirm", notice };

  // A staff decision on the status ends the "reopened" mark; a resolved or closed ticket waits for nobody.
  // Only from the status read above: two submits of the same change at once (a double click on the
  // confirmation) change it, and tell the resident, once; the second finds nothing to change.
  const moved = await tx.ticket.updateMany({
    where: { id: ticket.id, status: ticket.status },
    data: { status: next, reopenedAt: null, ...(NOTIFIED.has(next) ? { waitingSince: null } : {}) },
  });
  if (moved.count === 0) return { ok: true, outcome: "unchanged" };
  await record(tx, ticket.id, actor, "status_changed", { from: ticket.status, to: next, ...(note.note !== null ? { publicNote: note.note } : {}) }, ctx.now);
  if (!notice || ticket.residentId === null) return { ok: true, outcome: "changed" };

  const delivery = await enqueueOutbound(tx, ctx, { residentId: ticket.residentId, ticketId: ticket.id, reference: ticket.reference, channel: notice.channel, kind: "notification", body: notice.body });
  await offerReopen(tx, ticket.residentId, ticket.reference);
  return { ok: true, outcome: "changed", delivery };
}

/** The notice of a resolution or closure, in the resident's remembered language, else the ticket's. */
async function statusNotice(
  tx: Tx,
  ctx: OutboxContext,
  ticket: { residentId: number; reference: number; channel: string; locale: string },
  status: TicketStatus,
): Promise<StatusNotice> {
  const resident = await tx.resident.findUniqueOrThrow({ where: { id: ticket.residentId } });
  const locale: Locale = (resident.locale ?? ticket.locale) === "en" ? "en" : "ar";
  const channel = replyChannel(ticket);
  return { body: ctx.render(`status.${status}`, { reference: ticket.reference }, locale, channel), channel, locale, optedOut: resident.optedOut };
}

/**
 * Hides one ticket from Open311 (`hidden` true) or shows it again, recording `open311_hidden` or
 * `open311_shown` in its history; `changed` is false when it already was so (nothing written).
 * Showing it again serves it only if nothing else keeps it private (open311/privacy.ts).
 */
export async function setOpen311Hidden(tx: Tx, actor: Actor, reference: number, hidden: boolean, now: Date): Promise<ActionResult<{ changed: boolean }>> {
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return notFound(reference);
  if (ticket.open311Hidden === hidden) return { ok: true, changed: false };
  await tx.ticket.update({ where: { id: ticket.id }, data: { open311Hidden: hidden } });
  await record(tx, ticket.id, actor, hidden ? "open311_hidden" : "open311_shown", {}, now);
  return { ok: true, changed: true };
}

/**
 * Lets the resident's next "1" reopen the ticket — unless they are in the middle of something,
 * which is never interrupted.
 */
async function offerReopen(tx: Tx, residentId: number, reference: number) {
  const conversation = await tx.conversation.findUnique({ where: { residentId } });
  if (conversation && !isAtRest(parseState(conversation.state).state)) return;
  const state = JSON.stringify(reopenOfferState(reference));
  await tx.conversation.upsert({
    where: { residentId },
    create: { residentId, state, stateVersion: STATE_VERSION },
    update: { state, stateVersion: STATE_VERSION },
  });
}

/** Why a failed message cannot be sent again as asked; the ticket page explains it (staff.json `outbox.refused.*`). */
export type DeliveryRefusal = RequeueRefusal | "not_whatsapp";
export type DeliveryActionResult<T = object> = ActionResult<T> | { ok: false; error: "refused"; reason: DeliveryRefusal };

/** One outbound message of a ticket the actor may work; null when it is not one. */
async function ticketMessage(tx: Tx, actor: Actor, reference: number, messageId: number) {
  const ticket = await ticketForActor(tx, actor, reference);
  if (!ticket) return null;
  // Ids are 32-bit in PostgreSQL: a larger number is no message, not a database error.
  if (!Number.isSafeInteger(messageId) || messageId < 1 || messageId > 2_147_483_647) return { ticket, message: null };
  const message = await tx.message.findFirst({ where: { id: messageId, ticketId: ticket.id, direction: "outbound" }, include: { outbox: true, resident: true } });
  return { ticket, message };
}

/**
 * "Try again" on a message that did not go out: the same message is queued again with a fresh
 * deadline (the resident is not told twice about anything: it never arrived). Recorded in the
 * ticket's history.
 */
export async function retryDelivery(tx: Tx, ctx: OutboxContext, actor: Actor, reference: number, messageId: number): Promise<DeliveryActionResult> {
  const found = await ticketMessage(tx, actor, reference, messageId);
  if (!found) return notFound(reference);
  if (!found.message) return { ok: false, error: "refused", reason: "not_failed" };
  const requeued = await requeueFailed(tx, ctx, found.message.id);
  if (!requeued.ok) return { ok: false, error: "refused", reason: requeued.reason };
  // The earlier try's provider id: reconciliation of the new try must never take it for the new one.
  await record(
    tx,
    found.ticket.id,
    actor,
    "delivery_retried",
    { messageId: found.message.id, channel: found.message.channel, ...(requeued.previousProviderMessageId ? { previousProviderMessageId: requeued.previousProviderMessageId } : {}) },
    ctx.now,
  );
  return { ok: true };
}

/**
 * "Send by SMS instead" for a WhatsApp message that did not go out: the same text is queued to the
 * resident's phone by SMS as a new message of the ticket; the WhatsApp one stays failed.
 */
export async function sendBySmsInstead(tx: Tx, ctx: OutboxContext, actor: Actor, reference: number, messageId: number): Promise<DeliveryActionResult<{ delivery: Enqueued }>> {
  const found = await ticketMessage(tx, actor, reference, messageId);
  if (!found) return notFound(reference);
  const { message, ticket } = found;
  if (!message?.outbox || !isFailed(message)) return { ok: false, error: "refused", reason: "not_failed" };
  if (message.channel !== "whatsapp") return { ok: false, error: "refused", reason: "not_whatsapp" };
  if (message.resident.optedOut) return { ok: false, error: "refused", reason: "opted_out" };
  // One SMS per failed WhatsApp message, however often (or however simultaneously) the button is
  // pressed: a compare-and-set closes the WhatsApp row ("cancelled": nothing more to do for it, and
  // "try again" is refused from then on); only the request that closed it queues the SMS. The
  // message keeps its failure reason for staff to read.
  const row = message.outbox;
  const closed = await tx.outbox.updateMany({ where: { id: row.id, status: row.status, claimId: row.claimId }, data: { status: "cancelled", leaseUntil: null } });
  if (closed.count === 0) return { ok: false, error: "refused", reason: "not_failed" };
  const delivery = await enqueueOutbound(tx, ctx, {
    // The failed message's resident: the ticket's (a message of a ticket is its resident's).
    residentId: message.residentId,
    ticketId: ticket.id,
    reference: ticket.reference,
    channel: "sms",
    kind: message.kind === "notification" ? "notification" : "staff",
    body: message.body,
    staffId: actor.id,
  });
  await record(tx, ticket.id, actor, "sent_by_sms", { fromMessageId: message.id, messageId: delivery.messageId, delivery: delivery.status }, ctx.now);
  return { ok: true, delivery };
}
