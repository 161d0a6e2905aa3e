import { z } from "zod";
import { ROUTES } from "../../channels/routes.js";
import { CHANNELS, LOCALES, TICKET_STATUSES } from "../../conversation/types.js";
import { TicketFilters } from "../../services/ticketQueries.js";

// The contract of /api/v1: what integrations send and what they get back. The router parses
// requests with these schemas, the serializers are typed by them, and openApiDocument.ts derives the
// published JSON Schemas from them, so the document cannot drift from the code.

const EXAMPLE_TIME = "2026-03-14T08:30:00.000Z";
const isoTime = () => z.iso.datetime().meta({ examples: [EXAMPLE_TIME] });
const code = () => z.string().regex(/^[a-z_]+$/, "must be a code of lowercase letters and underscores");
// Ids are 32-bit integers in the database: PostgreSQL refuses a larger one with an error, not a miss.
const MAX_ID = 2_147_483_647;
// PostgreSQL cannot store NUL in text; nobody types one.
const NUL = "\u0000";
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !value.includes(NUL), "must not contain NUL characters");

// ─── Requests ───────────────────────────────────────────────────────────────────────────────

/** The queue filters of GET /tickets (the same as the staff queue's, limits included). */
export const TicketQuery = TicketFilters;

/** `:reference` in a path: the public ticket number residents see (#10427). */
export const ReferenceParam = z.object({
  reference: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, "must be a ticket reference (digits only, e.g. 10427)")
    .transform(Number),
});

export const ReplyRequest = z
  .strictObject({
    body: text(1600).meta({ description: "The text sent to the resident on their channel, in whatever language staff wrote (SMS or WhatsApp)." }),
  })
  .meta({ description: "A reply to the resident.", examples: [{ body: "شكراً، فريق الأشغال سيصل غداً صباحاً." }] });

export const NoteRequest = z
  .strictObject({
    text: text(5000).meta({ description: "An internal note: part of the history, never sent." }),
  })
  .meta({ description: "An internal note on the ticket.", examples: [{ text: "Called the contractor; crew booked for Tuesday." }] });

export const AssignmentRequest = z
  .strictObject({
    assigneeId: z
      .union([z.literal("me"), z.number().int().positive().max(MAX_ID, "is not a staff id"), z.null()], { error: 'must be a staff id, "me" or null' })
      .meta({ description: 'The staff member who works the ticket: a staff id, "me" (the token\'s owner) or null to unassign.' }),
  })
  .meta({ description: "Who works the ticket.", examples: [{ assigneeId: "me" }, { assigneeId: 7 }, { assigneeId: null }] });

export const StatusRequest = z
  .strictObject({
    status: z.enum(TICKET_STATUSES).meta({ description: "resolved and closed notify the resident in their language, with how to reopen." }),
  })
  .meta({ description: "The ticket's new status.", examples: [{ status: "resolved" }] });

export const RecategorizeRequest = z
  .strictObject({
    categoryCode: code()
      .nullable()
      .optional()
      .meta({ description: "A category code (e.g. roads), or null for none. A new category brings its department unless `department` is given." }),
    department: code().optional().meta({ description: "A department code (e.g. public_works)." }),
  })
  .refine((change) => change.categoryCode !== undefined || change.department !== undefined, "send categoryCode, department or both")
  .meta({ description: "Moves the ticket to another category and/or department.", minProperties: 1, examples: [{ categoryCode: "water" }, { department: "public_works" }] });

// ─── Responses ──────────────────────────────────────────────────────────────────────────────

export const ErrorResponse = z
  .object({ error: z.string().meta({ description: "What went wrong, in English, for the integrator." }) })
  .meta({ description: "Every error has this shape.", examples: [{ error: "No ticket #10427" }] });

export const StaffRef = z.object({ id: z.number().int(), displayName: z.string() }).meta({ examples: [{ id: 7, displayName: "Rania" }] });

export const CategoryRef = z
  .object({ code: z.string(), nameAr: z.string(), nameEn: z.string() })
  .meta({ examples: [{ code: "roads", nameAr: "طرقات وحفر", nameEn: "Roads and potholes" }] });

export const MediaItem = z.object({ url: z.string(), contentType: z.string() }).meta({
  description: "A file the resident sent. Twilio media URLs need the account's credentials to fetch.",
});

const ticketFields = {
  reference: z.number().int().meta({ description: "The public ticket number; its id in this API.", examples: [10427] }),
  status: z.enum(TICKET_STATUSES),
  needsHuman: z.boolean().meta({ description: "The resident asked to talk to a person." }),
  childRelated: z.boolean(),
  channel: z.enum(CHANNELS).meta({ description: "Where the resident wrote; replies go out there." }),
  route: z.enum(ROUTES).meta({ description: "The provider the request came through: twilio (SMS or WhatsApp), android (the town's Android SMS gateway) or smpp (the operator's short code)." }),
  locale: z.enum(LOCALES).meta({ description: "The language of the request (filter: `language`)." }),
  department: z.string().nullable(),
  category: CategoryRef.nullable(),
  description: z.string(),
  assignee: StaffRef.nullable(),
  createdAt: isoTime(),
  updatedAt: isoTime(),
};

export const TicketSummary = z
  .object({ ...ticketFields, phoneMasked: z.string().meta({ examples: ["+961•••••456"] }) })
  .meta({ description: "A ticket as it appears in the queue (the resident's phone masked)." });

export const TicketList = z
  .object({
    total: z.number().int().meta({ description: "Tickets matching the filters, on all pages." }),
    page: z.number().int(),
    pageSize: z.number().int(),
    tickets: z.array(TicketSummary).meta({ description: "Oldest first: the resident who has waited longest comes first." }),
  })
  .meta({ description: "One page of the queue." });

export const ConversationMessage = z
  .object({
    id: z.number().int().meta({ description: "The message's id (a reply's `delivery.messageId`)." }),
    direction: z.enum(["inbound", "outbound"]),
    channel: z.enum(CHANNELS),
    route: z.enum(ROUTES).meta({ description: "The provider the message travelled through (twilio | android | smpp)." }),
    kind: z.string().meta({ description: "inbound: resident; outbound: bot | staff | notification | template." }),
    body: z.string(),
    media: z.array(MediaItem),
    location: z.object({ latitude: z.number(), longitude: z.number(), label: z.string().nullable() }).nullable(),
    status: z.string().meta({
      description: "inbound: received; bot: replied; later messages: queued | held | sent | delivered | read | failed | undelivered | not_sent.",
    }),
    errorCode: z.string().nullable().meta({ description: "Why it was not delivered: a Twilio error code, opted_out or window_closed." }),
    errorMessage: z.string().nullable(),
    author: StaffRef.nullable().meta({ description: "The staff member who wrote an outbound staff reply." }),
    createdAt: isoTime(),
  })
  .meta({ description: "One message between the resident and the town hall." });

export const HistoryEvent = z
  .object({
    kind: z.string().meta({ description: "created | reply | note | assigned | status_changed | category_changed | reopened" }),
    actorType: z.enum(["resident", "staff", "system"]),
    actor: StaffRef.nullable().meta({ description: "The staff member who acted, when actorType is staff." }),
    data: z.record(z.string(), z.unknown()).meta({
      description:
        "What changed, e.g. {from, to} for status_changed and assigned (staff ids), {channel, route, needsHuman} for created, {text} for note, {messageId, delivery} for reply, {fromCategory, toCategory, fromDepartment, toDepartment} (codes) for category_changed.",
      examples: [{ from: "new", to: "in_progress" }],
    }),
    createdAt: isoTime(),
  })
  .meta({ description: "One entry of the ticket's history: who did what, when." });

export const TicketDetail = z
  .object({
    ...ticketFields,
    assignee: z.object({ id: z.number().int(), displayName: z.string(), username: z.string() }).nullable(),
    resident: z.object({
      phone: z.string().meta({ description: "E.164, unmasked.", examples: ["+96171123456"] }),
      locale: z.enum(LOCALES).nullable(),
      optedOut: z.boolean().meta({ description: "The resident sent STOP: nothing is sent to them." }),
      profileName: z.string().nullable(),
    }),
    location: z
      .object({ latitude: z.number(), longitude: z.number(), label: z.string().nullable(), mapUrl: z.url() })
      .nullable()
      .meta({ description: "The pin the resident shared (WhatsApp)." }),
    address: z.string().nullable().meta({ description: "The landmark or address the resident wrote." }),
    media: z.array(MediaItem),
    messages: z.array(ConversationMessage).meta({ description: "The conversation around the ticket, oldest first." }),
    history: z.array(HistoryEvent).meta({ description: "Oldest first." }),
    whatsappWindow: z
      .object({ open: z.boolean(), lastInboundAt: isoTime().nullable() })
      .nullable()
      .meta({
        description:
          "WhatsApp tickets only: free-form replies are delivered while the resident wrote within 24 hours; otherwise they are held and an approved template is sent.",
      }),
  })
  .meta({ description: "Everything about one ticket." });

export const Delivery = z
  .discriminatedUnion("status", [
    z.object({ status: z.literal("queued"), messageId: z.number().int() }).meta({ description: "Handed to the outbox; sent within seconds." }),
    z
      .object({ status: z.literal("held"), messageId: z.number().int(), templateQueued: z.boolean() })
      .meta({ description: "WhatsApp window closed: held until the resident writes; the approved template was queued unless one already was." }),
    z
      .object({ status: z.literal("not_sent"), messageId: z.number().int(), reason: z.literal("opted_out") })
      .meta({ description: "The resident opted out: nothing is sent." }),
  ])
  .meta({ description: "What became of a message to the resident. Follow its status in the ticket's messages." });

export const ReplyResponse = z.object({ delivery: Delivery }).meta({ examples: [{ delivery: { status: "queued", messageId: 812 } }] });

export const NoteResponse = z
  .object({ note: z.object({ text: z.string(), author: StaffRef, createdAt: isoTime() }) })
  .meta({ examples: [{ note: { text: "Called the contractor.", author: { id: 7, displayName: "Rania" }, createdAt: EXAMPLE_TIME } }] });

export const TicketChangeResponse = z
  .object({
    ticket: TicketSummary,
    delivery: Delivery.optional().meta({ description: "Resolving or closing notifies the resident: what became of that message." }),
  })
  .meta({ description: "The ticket after the change." });
