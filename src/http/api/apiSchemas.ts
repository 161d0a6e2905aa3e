import { z } from "zod";
import { ROUTES } from "../../channels/routes.js";
import { CHANNELS, LOCALES, SurveyQuestionSchema, TICKET_STATUSES } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import { MAX_SURVEY_SEGMENTS } from "../../services/surveys/cost.js";
import { AudienceSchema, RecurrenceSchema, SURVEY_STATUSES, SurveyInputSchema } from "../../services/surveys/definition.js";
import { RequestExportFilters } from "../../services/places/geojsonExport.js";
import { PLACE_KINDS } from "../../services/places/placeTypes.js";
import { MAX_PUBLIC_NOTE } from "../../services/staffActions.js";
import { TARGET_STATES } from "../../services/targets.js";
import { TICKET_CHANNELS, TICKET_ROUTES, TicketFilters } from "../../services/ticketQueries.js";

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
    publicNote: z
      .string()
      .trim()
      .max(MAX_PUBLIC_NOTE, `must be at most ${MAX_PUBLIC_NOTE} characters`)
      .regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/, "must not contain control characters (line breaks and tabs are fine)")
      .optional()
      .meta({
        description:
          "What the town says publicly about this change: Open311's `status_notes` (and the update's description), never sent to the resident. With the current status, only the note is recorded and nobody is notified. Empty or blank: no note. Write no names or phone numbers.",
      }),
  })
  .meta({
    description: "The ticket's new status, and optionally a public note.",
    examples: [{ status: "resolved" }, { status: "resolved", publicNote: "Pothole filled on 12 March." }],
  });

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
  channel: z.enum(TICKET_CHANNELS).meta({
    description:
      "Where the request came from: sms or whatsapp (the resident wrote there; replies go out there), or open311 (another civic tool filed it through Open311; its resident, when it gave a phone number, is written to by SMS).",
  }),
  route: z.enum(TICKET_ROUTES).meta({
    description:
      "The provider the request came through: twilio (SMS or WhatsApp), android (the town's Android SMS gateway), smpp (the operator's short code), whatsapp-web (the town's own WhatsApp number through WhatsApp Web), or open311 (another tool's Open311 request).",
  }),
  locale: z.enum(LOCALES).meta({ description: "The language of the request (filter: `language`)." }),
  department: z.string().nullable(),
  category: CategoryRef.nullable(),
  description: z.string(),
  assignee: StaffRef.nullable(),
  createdAt: isoTime(),
  updatedAt: isoTime(),
};

export const TicketSummary = z
  .object({
    ...ticketFields,
    phoneMasked: z
      .string()
      .nullable()
      .meta({ description: "The resident's phone, masked; null when the ticket has no resident (filed through Open311 without a phone number).", examples: ["+961•••••456"] }),
    open311Client: z.string().nullable().meta({ description: "The name of the Open311 client (another civic tool) that filed it; null for a resident's own request.", examples: [null] }),
  })
  .meta({ description: "A ticket as it appears in the queue (the resident's phone masked)." });

export const TicketTarget = z
  .object({
    state: z.enum(TARGET_STATES).meta({
      description:
        "ok; near: three quarters of a target's time used; overdue: past it. While the ticket is open two targets run, the first reply (counted from `waitingSince` until staff first reply) and the resolution (counted from `createdAt`), each set per category; this is the worse of the two.",
    }),
    dueAt: isoTime().nullable().meta({ description: "When the target that decides `state` falls due; null for a resolved or closed ticket (no target runs)." }),
  })
  .meta({ description: "Where the ticket stands against its category's targets.", examples: [{ state: "near", dueAt: "2026-03-14T17:02:11.000Z" }] });

export const QueueTicket = TicketSummary.extend({
  waitingSince: isoTime()
    .nullable()
    .meta({ description: "Since when the resident has waited for staff: their oldest message staff have not answered (the filing, for a new ticket). Null when staff replied last, or the ticket is resolved or closed." }),
  unread: z.boolean().meta({ description: "The resident wrote since the token's staff member last opened the ticket in the browser (or they never did)." }),
  reopened: z.boolean().meta({ description: "The resident reopened the ticket, and no staff member has changed its status since." }),
  target: TicketTarget,
}).meta({ description: "A ticket as it appears in the queue (the resident's phone masked), with its waiting time, unread mark and targets." });

export const TicketList = z
  .object({
    total: z.number().int().meta({ description: "Tickets matching the filters, on all pages." }),
    page: z.number().int(),
    pageSize: z.number().int(),
    tickets: z.array(QueueTicket).meta({
      description:
        "With `sort=target` (the default): overdue tickets first, then those near their target, then the others, each the longest waiting first (tickets staff answered last after them, oldest first). With `sort=created`: the oldest filed first.",
    }),
  })
  .meta({ description: "One page of the queue." });

export const ConversationMessage = z
  .object({
    id: z.number().int().meta({ description: "The message's id (a reply's `delivery.messageId`)." }),
    direction: z.enum(["inbound", "outbound"]),
    channel: z.enum(CHANNELS),
    route: z.enum(ROUTES).meta({ description: "The provider the message travelled through (twilio | android | smpp | whatsapp-web)." }),
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
    kind: z
      .string()
      .meta({ description: "created | reply | note | assigned | status_changed | category_changed | reopened | public_note | open311_hidden | open311_shown | …" }),
    actorType: z.enum(["resident", "staff", "system"]),
    actor: StaffRef.nullable().meta({ description: "The staff member who acted, when actorType is staff." }),
    data: z.record(z.string(), z.unknown()).meta({
      description:
        "What changed, e.g. {from, to, publicNote?} for status_changed, {from, to} for assigned (staff ids), {channel, route, needsHuman} for created (and {open311Client: {id, name}} when another tool filed it through Open311), {text} for note and public_note, {messageId, delivery} for reply, {fromCategory, toCategory, fromDepartment, toDepartment} (codes) for category_changed.",
      examples: [{ from: "new", to: "in_progress" }],
    }),
    createdAt: isoTime(),
  })
  .meta({ description: "One entry of the ticket's history: who did what, when." });

const BothNames = z.object({ ar: z.string(), en: z.string() });

export const Open311Submission = z
  .object({
    client: z.object({
      name: z.string().meta({ examples: ["FixMyStreet Bekaa"] }),
      revoked: z.boolean().meta({ description: "Its key has since been revoked: it files nothing more." }),
    }),
    submittedAt: isoTime(),
    person: z
      .object({
        firstName: z.string().nullable(),
        lastName: z.string().nullable(),
        email: z.string().nullable(),
        deviceId: z.string().nullable().meta({ description: "The device id the client sent (`device_id`)." }),
        accountId: z.string().nullable().meta({ description: "The client's own id for the person (`account_id`), not a municipal account." }),
      })
      .meta({ description: "Who the client says filed it, as it sent it (each may be null). Personal data: for staff only, never published." }),
    mediaUrls: z.array(z.string()).meta({
      description: "The `media_url` values the client sent, as sent: links to someone else's server, never fetched, embedded or published by the town hall. Follow only http(s) ones.",
    }),
    attributes: z
      .array(
        z.object({
          code: z.string(),
          question: BothNames.nullable().meta({ description: "The question the category asks with this code; null for a code the ticket's category does not know (or no longer has)." }),
          values: z
            .array(z.object({ key: z.string(), name: BothNames.nullable().meta({ description: "The name of a list value; null for free text, numbers, dates and unknown keys." }) }))
            .meta({ description: "What was answered: one value, or several for a multi-value list." }),
        }),
      )
      .meta({ description: "The answers to the service's questions (`attribute[code]`): the category's questions in their order, then codes it does not know." }),
  })
  .meta({ description: "What an Open311 client sent with a request it filed, beyond the ticket's own fields." });

export const TicketDetail = z
  .object({
    ...ticketFields,
    assignee: z.object({ id: z.number().int(), displayName: z.string(), username: z.string() }).nullable(),
    resident: z
      .object({
        phone: z.string().meta({ description: "E.164, unmasked.", examples: ["+96171123456"] }),
        locale: z.enum(LOCALES).nullable(),
        optedOut: z.boolean().meta({ description: "The resident sent STOP: nothing is sent to them." }),
        profileName: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          "Who filed it and is told about it; null for a request another tool filed through Open311 without a phone number: nobody to reply to (replies are refused with 409), status changes notify nobody (write a public note).",
      }),
    open311: Open311Submission.nullable().meta({ description: "Filed through Open311: what the client sent. Null for a resident's own request." }),
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

// ─── GeoJSON (RFC 7946) ──────────────────────────────────────────────────────────────────────

/** The filters of GET /requests.geojson: the map's (status, category, department, child-related, area, dates). */
export const RequestsGeoJsonQuery = RequestExportFilters;

const Position = z
  .tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)])
  .meta({ description: "[longitude, latitude], WGS84, at most 6 decimals.", examples: [[35.823712, 33.793401]] });
const PointGeometry = z.object({ type: z.literal("Point"), coordinates: Position });
const nameAr = () => z.string().meta({ examples: ["مدرسة قب الياس الرسمية"] });
const nameEn = () => z.string().meta({ examples: ["Qab Elias Public School"] });

export const ChildReason = z
  .discriminatedUnion("kind", [
    z
      .object({
        kind: z.literal("zone"),
        place: z.string().nullable().meta({ description: "The child-related place (in `lang`); null if it was since removed." }),
        metres: z.number().int().nullable().meta({ description: "How far from it, in metres." }),
      })
      .meta({ description: "The point is within the child zone (CHILD_ZONE_METRES, default 150 m) of a school, kindergarten, playground…" }),
    z.object({ kind: z.literal("category") }).meta({ description: "Its category is child-related." }),
    z.object({ kind: z.literal("words") }).meta({ description: "The resident's words were about children." }),
  ])
  .meta({
    description: "Why the request is child-related (a zone first, then the category, then the words); null when it is not.",
    examples: [{ kind: "zone", place: "Qab Elias Public School", metres: 80 }, { kind: "category" }, { kind: "words" }],
  });

export const RequestProperties = z
  .strictObject({
    reference: z.number().int().meta({ description: "The public ticket number (also the feature's id).", examples: [10427] }),
    category: z.object({ code: z.string(), name_ar: z.string(), name_en: z.string() }).nullable(),
    status: z.enum(TICKET_STATUSES),
    child_related: z.boolean(),
    child_reason: ChildReason.nullable(),
    near_place: z.string().nullable().meta({ description: "The place the resident's landmark was matched to (in `lang`), else null.", examples: ["Qab Elias Public School"] }),
    area: z.string().nullable().meta({ description: "The area the point falls in (in `lang`), else null.", examples: ["Wadi al-Delm"] }),
    approximate: z.boolean().meta({ description: "The point is the matched place's, not a pin the resident dropped." }),
    created_at: isoTime(),
    resolved_at: isoTime()
      .nullable()
      .meta({ description: "For a resolved or closed request, when it was resolved or closed (since it was last reopened); null while open." }),
  })
  .meta({ description: "What a request is, where and when: never the resident's phone, name or words." });

export const RequestFeatureCollection = z
  .object({
    type: z.literal("FeatureCollection"),
    features: z.array(z.strictObject({ type: z.literal("Feature"), id: z.number().int(), geometry: PointGeometry, properties: RequestProperties })),
  })
  .meta({ description: "Located requests, newest first, at most 10,000 (see the X-Total-Count header)." });

export const PlaceFeatureCollection = z
  .object({
    type: z.literal("FeatureCollection"),
    features: z.array(
      z.strictObject({
        type: z.literal("Feature"),
        id: z.number().int(),
        geometry: PointGeometry,
        properties: z.strictObject({ id: z.number().int(), kind: z.enum(PLACE_KINDS), name_ar: nameAr(), name_en: nameEn(), child_related: z.boolean() }),
      }),
    ),
  })
  .meta({ description: "The town's places: schools, kindergartens, playgrounds, clinics, landmarks." });

const Ring = z.array(Position).min(4).meta({ description: "A closed ring: the last position repeats the first." });
const PolygonCoordinates = z.array(Ring).min(1).meta({ description: "The exterior ring (counterclockwise), then any holes (clockwise)." });

export const AreaFeatureCollection = z
  .object({
    type: z.literal("FeatureCollection"),
    features: z.array(
      z.strictObject({
        type: z.literal("Feature"),
        id: z.number().int(),
        geometry: z.discriminatedUnion("type", [
          z.object({ type: z.literal("Polygon"), coordinates: PolygonCoordinates }),
          z.object({ type: z.literal("MultiPolygon"), coordinates: z.array(PolygonCoordinates).min(1) }),
        ]),
        properties: z.strictObject({
          id: z.number().int(),
          name_ar: z.string().meta({ examples: ["وادي الدلم"] }),
          name_en: z.string().meta({ examples: ["Wadi al-Delm"] }),
          child_population: z.number().int().nullable().meta({ description: "Children living in the area, as an admin entered it; null if unknown." }),
        }),
      }),
    ),
  })
  .meta({ description: "The town's areas (neighbourhoods) as polygons." });

// ─── Surveys ────────────────────────────────────────────────────────────────────────────────

/** `:id` in a survey path. */
export const SurveyIdParam = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, "must be a survey id (digits only, e.g. 12)")
    .transform(Number)
    .refine((id) => id <= MAX_ID, "is not a survey id"),
});

const EXAMPLE_DEFINITION = {
  title: { ar: "رضا عن جمع النفايات", en: "Waste collection satisfaction" },
  intro: { ar: "سؤالان قصيران من البلدية.", en: "Two short questions from the municipality." },
  questions: [
    { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" }, min: 1, max: 5 },
    {
      type: "choice",
      text: { ar: "ماذا يجب أن تصلح البلدية أولاً؟", en: "What should the municipality fix first?" },
      options: [
        { ar: "الطرقات", en: "Roads" },
        { ar: "الإنارة", en: "Street lights" },
        { ar: "المياه", en: "Water" },
      ],
    },
  ],
  audience: { channels: [], languages: [], areas: ["Centre"] },
  schedule: { startAt: null, recurrence: { kind: "monthly", day: 1, time: "10:00" } },
  expiryHours: 72,
} satisfies z.input<typeof SurveyInputSchema>;

/** A survey's definition, as POST /surveys takes it and GET /surveys/{id} gives it back. */
export const SurveyDefinition = SurveyInputSchema.meta({
  description: [
    "A survey: a title (one string for both languages, or {ar, en}), an optional intro line, 1-10 questions with Arabic and English texts,",
    "the audience (empty lists: every joined resident) and the schedule (Beirut time). Question types: `choice` (2-9 options),",
    "`yesno`, `rating` (min 1 max 5, or min 0 max 10), `number`, `text` (a free answer). A `choice` with `area: true` asks the",
    "resident's neighbourhood and sets it.",
  ].join(" "),
  examples: [EXAMPLE_DEFINITION],
});

export const ScheduleRequest = z
  .strictObject({
    confirmedSegments: z
      .number()
      .int()
      .min(0)
      .max(MAX_ID)
      .meta({ description: "The `estimatedSegments` you were shown (POST /surveys or GET /surveys/{id}): scheduling is refused with 409 if the estimate has changed since." }),
  })
  .meta({ description: "Confirms what one run costs and schedules the draft.", examples: [{ confirmedSegments: 312 }] });

export const SurveyActionRequest = z
  .strictObject({})
  .meta({ description: "No fields: send `{}` (an empty body is accepted too).", examples: [{}] });

const count = () => z.number().int().min(0);
const LocalizedText = z.object({ ar: z.string(), en: z.string() });

export const SurveyRecipients = z
  .object({
    total: count(),
    sms: count(),
    whatsapp: count(),
    byLocale: z.object({ ar: z.object({ sms: count(), whatsapp: count() }), en: z.object({ sms: count(), whatsapp: count() }) }),
  })
  .meta({ description: "Joined residents the survey would be sent to today, per channel and language (a resident's channel is the one they last wrote on)." });

export const OverBudgetMessage = z
  .object({
    locale: z.enum(LOCALES),
    kind: z.enum(["invite", "question", "retry", "thanks"]),
    question: z.number().int().nullable().meta({ description: "The question it asks (0-based), if any." }),
    segments: z.number().int(),
    text: z.string().meta({ description: "The message exactly as the resident would read it by SMS." }),
  })
  .meta({ description: `A message of the survey over ${MAX_SURVEY_SEGMENTS} SMS segments: shorten it before scheduling.` });

const estimateFields = {
  recipients: SurveyRecipients,
  estimatedSegments: count().meta({ description: "SMS segments of one whole run if every SMS recipient answers every question (WhatsApp costs none). Confirm it to schedule." }),
  perResident: z.object({ ar: count(), en: count() }).meta({ description: "SMS segments for one resident who answers everything, per language." }),
  tooLong: z.array(OverBudgetMessage).meta({ description: "Empty, or the messages that must be shortened before the survey can be scheduled." }),
};

export const SurveyEstimate = z.object(estimateFields).meta({ description: "What one run costs for today's audience." });

const surveyStatus = () => z.enum(SURVEY_STATUSES).meta({ description: "draft → scheduled ⇄ paused; cancelled for good; finished when a one-off survey's run closed." });

export const SurveyCreated = z
  .object({ id: z.number().int(), status: surveyStatus(), ...estimateFields })
  .meta({ description: "The draft, with what one run would cost. Schedule it with POST /surveys/{id}/schedule and its `estimatedSegments`." });

export const SurveyStatusResponse = z
  .object({ id: z.number().int(), status: surveyStatus(), nextRunAt: isoTime().nullable().meta({ description: "When the next run starts (null: none planned)." }) })
  .meta({ description: "The survey after the change." });

export const SurveyScheduled = z
  .object({
    id: z.number().int(),
    status: surveyStatus(),
    nextRunAt: isoTime().nullable().meta({ description: "When the first run starts." }),
    confirmedSegments: count(),
    recipients: SurveyRecipients,
  })
  .meta({ description: "The survey is scheduled; the survey job starts its run at `nextRunAt`." });

export const SurveySummary = z
  .object({
    id: z.number().int(),
    title: LocalizedText,
    status: surveyStatus(),
    questions: count().meta({ description: "How many questions it asks." }),
    recurrence: RecurrenceSchema,
    startAt: isoTime().nullable(),
    nextRunAt: isoTime().nullable(),
    runs: count().meta({ description: "Runs so far." }),
    lastRunAt: isoTime().nullable(),
    createdAt: isoTime(),
    updatedAt: isoTime(),
  })
  .meta({ description: "A survey in the list." });

export const SurveyList = z.object({ surveys: z.array(SurveySummary).meta({ description: "Newest first." }) }).meta({ description: "Every survey of the municipality." });

export const SurveyDetail = z
  .object({
    id: z.number().int(),
    status: surveyStatus(),
    title: LocalizedText,
    intro: LocalizedText.nullable(),
    questions: z.array(SurveyQuestionSchema),
    audience: AudienceSchema,
    schedule: z.object({ startAt: isoTime().nullable(), recurrence: RecurrenceSchema }),
    expiryHours: z.number().int(),
    nextRunAt: isoTime().nullable(),
    confirmedSegments: count().nullable().meta({ description: "The cost confirmed when it was scheduled." }),
    createdAt: isoTime(),
    updatedAt: isoTime(),
    estimate: SurveyEstimate,
  })
  .meta({ description: "A survey's definition (the shape POST /surveys takes), its status and what a run costs today." });

export const SURVEY_ERROR_CODES = [
  "not_draft",
  "not_scheduled",
  "not_paused",
  "already_cancelled",
  "too_long",
  "estimate_changed",
  "bad_recurrence",
  "start_in_past",
] as const;

export const SurveyRefused = z
  .object({
    error: z.string().meta({ description: "What went wrong, in English." }),
    code: z.enum(SURVEY_ERROR_CODES).meta({
      description:
        "409: not_draft (only a draft is scheduled), not_scheduled (pause), not_paused (resume), already_cancelled, estimate_changed (confirm the new `estimatedSegments`); 422: too_long (see `tooLong`), bad_recurrence, start_in_past.",
    }),
    status: surveyStatus().optional().meta({ description: "The survey's current status (state conflicts)." }),
    estimatedSegments: count().optional().meta({ description: "estimate_changed: the current estimate, to confirm instead." }),
    recipients: SurveyRecipients.optional(),
    tooLong: z.array(OverBudgetMessage).optional(),
  })
  .meta({
    description: "A survey action refused: the usual `error`, plus a code and what is needed to try again.",
    examples: [{ error: "The estimate changed: a run now costs 318 SMS segments; confirm that number to schedule", code: "estimate_changed", estimatedSegments: 318 }],
  });

const share = () => z.number().min(0).max(1);

export const SurveyOptionCount = z
  .object({
    value: z.string().meta({ description: "As stored: the option number (choice), yes / no (yesno), the point of the scale (rating)." }),
    label: LocalizedText,
    count: count(),
    share: share().meta({ description: "count / answered (0 when nobody answered)." }),
  })
  .meta({ description: "One bar of the question's chart." });

export const SurveyQuestionResult = z
  .object({
    index: z.number().int().meta({ description: "The question's position, from 0." }),
    type: SurveyQuestionSchema.shape.type,
    text: LocalizedText,
    answered: count(),
    skipped: count().meta({ description: "Skipped (\"skip\", or an unusable answer twice)." }),
    counts: z.array(SurveyOptionCount).meta({ description: "choice: every option; yesno: yes, no; rating: every point of the scale (the distribution). Empty for number and text." }),
    mean: z.number().nullable().meta({ description: "rating and number: the mean answer; null otherwise or without answers." }),
    stats: z
      .object({ count: count(), mean: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable(), median: z.number().nullable() })
      .nullable()
      .meta({ description: "number questions: count, mean, min, max and median of the answers." }),
    answers: z
      .array(z.object({ value: z.string(), phoneMasked: z.string().meta({ examples: ["+961•••••456"] }), area: z.string().nullable() }))
      .nullable()
      .meta({ description: "text questions: the free answers, newest first, with the resident's phone masked; null for other types." }),
  })
  .meta({ description: "One question's results in one run." });

export const SurveyGroupResult = z
  .object({
    key: z.string().nullable().meta({ description: "The area (null: not known), the language (ar, en) or the channel (sms, whatsapp)." }),
    invited: count(),
    completed: count(),
    responseRate: share().nullable(),
    questions: z.array(
      z.object({
        index: z.number().int(),
        answered: count(),
        mean: z.number().nullable(),
        counts: z.array(count()).nullable().meta({ description: "Per option / point of the scale, in the order of the question's `counts`; null for number and text." }),
      }),
    ),
  })
  .meta({ description: "One group of a breakdown." });

export const SurveyRunComparison = z
  .object({
    previousRunId: z.number().int(),
    previousNumber: z.number().int(),
    responseRateChange: z.number().nullable(),
    questions: z.array(
      z.object({
        index: z.number().int(),
        type: SurveyQuestionSchema.shape.type,
        meanChange: z.number().nullable(),
        previousMean: z.number().nullable(),
        shares: z.array(z.object({ value: z.string(), label: LocalizedText, current: share(), previous: share(), change: z.number() })),
      }),
    ),
  })
  .meta({ description: "The run against the one before it: only questions asked the same way in both runs." });

export const SurveyRunResult = z
  .object({
    id: z.number().int(),
    number: z.number().int().meta({ description: "1, 2, 3…: the survey's nth run." }),
    scheduledFor: isoTime(),
    closesAt: isoTime(),
    status: z.enum(["open", "closed"]),
    invited: count().meta({ description: "Invitations that went out." }),
    notReachable: count().meta({ description: "WhatsApp residents outside the 24-hour window with no approved template configured." }),
    skipped: count().meta({ description: "Not invited: they left surveys or said STOP meanwhile, or the survey was cancelled." }),
    expired: count().meta({ description: "Still waiting to be sent when the run closed." }),
    pending: count().meta({ description: "Waiting to be sent (pacing, quiet hours, a resident busy filing a request)." }),
    started: count().meta({ description: "Invited residents who answered at least one question." }),
    completed: count(),
    responseRate: share().nullable().meta({ description: "completed / invited; null before anyone was invited." }),
    questions: z.array(SurveyQuestionResult),
    breakdown: z.object({ area: z.array(SurveyGroupResult), language: z.array(SurveyGroupResult), channel: z.array(SurveyGroupResult) }),
    comparison: SurveyRunComparison.nullable().meta({ description: "Against the previous run; null for a first run." }),
  })
  .meta({ description: "One run of the survey: who was invited and answered, and each question's results." });

export const SurveyResults = z
  .object({
    survey: z.object({ id: z.number().int(), title: LocalizedText, status: surveyStatus() }),
    runs: z.array(SurveyRunResult).meta({ description: "Newest first; empty before the first run." }),
  })
  .meta({ description: "A survey's results, run by run." });

// ─── Indicators ─────────────────────────────────────────────────────────────────────────────

const IndicatorArea = z
  .object({ id: z.number().int(), nameAr: z.string(), nameEn: z.string() })
  .meta({ description: "An area (neighbourhood); its id is the one of GET /areas.geojson.", examples: [{ id: 3, nameAr: "وادي الدلم", nameEn: "Wadi al-Delm" }] });

const MedianDays = z
  .object({
    n: count().meta({ description: "Requests resolved or closed in the month." }),
    medianDays: z.number().min(0).nullable().meta({ description: "The median days from filing to resolution, 2 decimals (the mean of the two middle ones for an even n); null when n is 0." }),
  })
  .meta({ description: "How long requests took to be resolved." });

const MonthResolution = z
  .object({
    month: z.string().regex(/^\d{4}-\d{2}$/).meta({ description: "The Beirut calendar month.", examples: ["2026-03"] }),
    from: isoTime().meta({ description: "Its first midnight in Beirut." }),
    to: isoTime().meta({ description: "The next month's first midnight in Beirut, or now for the current month (exclusive)." }),
    childRelated: MedianDays,
    others: MedianDays.meta({ description: "Every request that is not child-related." }),
  })
  .meta({ description: "Requests resolved in one month, child-related against all others." });

export const ChildIndicatorsResponse = z
  .strictObject({
    generatedAt: isoTime(),
    scope: z
      .object({ allDepartments: z.boolean(), departments: z.array(z.string()).meta({ description: "The token's staff member's departments when not all; empty otherwise." }) })
      .meta({ description: "Whose requests are counted: an admin's token counts the whole town, an agent's only their departments' requests (as in GET /tickets). Places and areas are always the town's." }),
    zoneMetres: z.number().int().meta({ description: "The radius of a child-related place's zone (CHILD_ZONE_METRES).", examples: [150] }),
    openChildRelated: z
      .object({
        total: count(),
        areas: z
          .array(
            z.object({
              area: IndicatorArea.nullable().meta({ description: "null: requests with no area (no location, or outside every area); listed last, only when there are some." }),
              open: count(),
              categories: z.array(z.object({ category: CategoryRef.nullable().meta({ description: "null: no category." }), open: count() })).meta({ description: "Most first." }),
            }),
          )
          .meta({ description: "Every area, with zero too, most open first." }),
      })
      .meta({ description: "Open (new, waiting_staff, in_progress) child-related requests by area and category." }),
    places: z
      .array(
        z.object({
          place: z.object({ id: z.number().int(), kind: z.enum(PLACE_KINDS), nameAr: z.string(), nameEn: z.string() }),
          open: count().meta({ description: "Open requests whose point is within `zoneMetres` of the place (a request near two places counts for both)." }),
          oldestOpenCreatedAt: isoTime().nullable().meta({ description: "When the oldest of them was filed; null when none." }),
          oldestOpenAgeDays: count().nullable().meta({ description: "Its age in whole days; null when none." }),
        }),
      )
      .meta({ description: "Every child-related place (schools, kindergartens, childcare, playgrounds, schoolyards, parks marked child-related), even with no open request; most open first." }),
    placesComplete: z.boolean().meta({ description: "False when over 20,000 open requests have a location: only the oldest 20,000 were counted for `places`." }),
    resolution: z.object({ thisMonth: MonthResolution, lastMonth: MonthResolution }).meta({ description: "Median days to resolve, this month (so far) and last month." }),
    perThousandChildren: z
      .object({
        from: isoTime().meta({ description: "Midnight in Beirut of the same date 12 months ago." }),
        to: isoTime().meta({ description: "Now." }),
        areas: z
          .array(
            z.object({
              area: IndicatorArea,
              childPopulation: count().nullable().meta({ description: "As an admin entered it; null when not entered." }),
              childRelatedRequests: count().meta({ description: "Child-related requests filed in the area in the period." }),
              perThousand: z.number().min(0).nullable().meta({ description: "childRelatedRequests / childPopulation × 1000, 2 decimals; null without a (non-zero) population." }),
            }),
          )
          .meta({ description: "Every area, highest rate first, areas without a population last." }),
        withoutArea: count().meta({ description: "Child-related requests of the period with no area (in no rate)." }),
      })
      .meta({ description: "Child-related requests per 1,000 children, over the last 12 months." }),
  })
  .meta({ description: "The town's child-safety indicators: counts, dates and names of places, areas and categories only — never a phone number, a name or a request's words." });

// ─── Parsing ────────────────────────────────────────────────────────────────────────────────

/**
 * Parses a request part or answers 400 naming every problem ("assigneeId: must be …; text: required").
 * `messages` rewrites a schema's message codes (e.g. "rating_scale") into sentences.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, part: string, messages: Record<string, string> = {}): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const missing = (issue.code === "invalid_type" || issue.code === "invalid_union") && issue.path.length > 0 && valueAt(value, issue.path) === undefined;
    const message = missing ? "required" : (messages[issue.message] ?? issue.message);
    return issue.path.length > 0 ? `${issue.path.join(".")}: ${message}` : message;
  });
  throw new HttpError(400, `Invalid ${part}: ${problems.join("; ")}`);
}

/** A JSON body: express.json leaves `req.body` undefined when the request has none or another type. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, messages: Record<string, string> = {}): z.output<T> {
  if (body === undefined) throw new HttpError(400, "Expected a JSON body with Content-Type: application/json");
  return parseInput(schema, body, "request body", messages);
}

function valueAt(value: unknown, path: PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = Reflect.get(current, key);
  }
  return current;
}
