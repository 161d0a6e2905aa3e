import { z } from "zod";
import {
  AssignmentRequest,
  CategoryRef,
  ConversationMessage,
  Delivery,
  ErrorResponse,
  HistoryEvent,
  MediaItem,
  NoteRequest,
  NoteResponse,
  RecategorizeRequest,
  ReplyRequest,
  ReplyResponse,
  StaffRef,
  StatusRequest,
  TicketChangeResponse,
  TicketDetail,
  TicketList,
  TicketQuery,
  TicketSummary,
} from "./apiSchemas.js";

type Json = { [key: string]: unknown };

/** One path: parameters shared by its operations, and the operations by HTTP method. */
export interface PathItem {
  parameters?: Json[];
  get?: Json;
  post?: Json;
  patch?: Json;
  put?: Json;
  delete?: Json;
}

/** The parts of an OpenAPI 3.1 document this API publishes. */
export interface OpenApiDocument {
  openapi: string;
  info: Json;
  servers: Json[];
  security: Json[];
  tags: Json[];
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; parameters: Record<string, Json>; securitySchemes: Record<string, Json> };
}

/**
 * The OpenAPI 3.1 description of /api/v1 served at /api/v1/openapi.json. Request and response
 * schemas are generated from the zod schemas the router parses with and the serializers are typed
 * by, so the document says what the code does.
 */
export function openApiDocument(options: { serverUrl: string }): OpenApiDocument {
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const errors = (...statuses: Array<400 | 403 | 404 | 413>) => ({
    "401": { $ref: "#/components/responses/Unauthorized" },
    ...Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/${ERROR_RESPONSES[s]}` }])),
  });
  const jsonBody = (id: string, examples: Record<string, unknown>) => ({
    required: true,
    content: { "application/json": { schema: ref(id), examples: Object.fromEntries(Object.entries(examples).map(([k, value]) => [k, { value }])) } },
  });
  const jsonResponse = (description: string, id: string, example: unknown) => ({
    description,
    content: { "application/json": { schema: ref(id), example } },
  });
  const reference = { $ref: "#/components/parameters/reference" };
  const changed = jsonResponse("The ticket after the change.", "TicketChangeResponse", { ticket: EXAMPLE_SUMMARY });

  return {
    openapi: "3.1.0",
    info: {
      title: "Baladiya API",
      version: "1.0.0",
      summary: "The service-request queue of the municipality, for other municipal systems.",
      description: [
        "The same tickets and actions staff have in the browser. Authenticate with a per-staff API token that an admin creates in the staff pages:",
        "`Authorization: Bearer bld_…`. The token acts with its staff member's role: agents see and act on their departments' tickets only",
        "(another department's ticket is a 404, exactly like one that does not exist); admins see everything.",
        "",
        "Tickets are identified by their public reference (the number residents see, e.g. #10427). Dates are ISO 8601 in UTC.",
        "Every error is `{ \"error\": \"…\" }` with its status: 400 invalid input (naming every problem), 401 missing or bad token,",
        "403 not allowed, 404 not found, 413 body over 64 kB.",
        "",
        "```sh",
        `curl -H "Authorization: Bearer $BALADIYA_TOKEN" "${options.serverUrl}/tickets?status=open&department=public_works"`,
        "```",
      ].join("\n"),
      license: { name: "AGPL-3.0-or-later", identifier: "AGPL-3.0-or-later" },
    },
    servers: [{ url: options.serverUrl }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "tickets", description: "The queue and the actions on one ticket." },
      { name: "meta", description: "This document." },
    ],
    paths: {
      "/openapi.json": {
        get: {
          operationId: "getOpenApiDocument",
          tags: ["meta"],
          summary: "This OpenAPI document",
          security: [],
          responses: { "200": { description: "The OpenAPI 3.1 document.", content: { "application/json": { schema: { type: "object" } } } } },
        },
      },
      "/tickets": {
        get: {
          operationId: "listTickets",
          tags: ["tickets"],
          summary: "List and filter the queue",
          description: "The tickets the token's staff member may see, oldest first, one page at a time. Phones are masked; open a ticket for the full number.",
          parameters: filterParameters(),
          responses: {
            "200": jsonResponse("One page of the queue.", "TicketList", { total: 1, page: 1, pageSize: 50, tickets: [EXAMPLE_SUMMARY] } satisfies z.input<typeof TicketList>),
            ...errors(400),
          },
        },
      },
      "/tickets/{reference}": {
        parameters: [reference],
        get: {
          operationId: "getTicket",
          tags: ["tickets"],
          summary: "One ticket with its conversation and history",
          responses: { "200": jsonResponse("The ticket.", "TicketDetail", EXAMPLE_DETAIL), ...errors(400, 404) },
        },
        patch: {
          operationId: "recategorizeTicket",
          tags: ["tickets"],
          summary: "Change the category and/or department",
          description: "A new category brings its department unless `department` is given. An agent who moves a ticket out of their departments cannot open it afterwards.",
          requestBody: jsonBody("RecategorizeRequest", { category: { categoryCode: "water" }, department: { department: "public_works" } }),
          responses: { "200": changed, ...errors(400, 403, 404, 413) },
        },
      },
      "/tickets/{reference}/replies": {
        parameters: [reference],
        post: {
          operationId: "replyToTicket",
          tags: ["tickets"],
          summary: "Reply to the resident",
          description: [
            "Sent on the resident's channel (SMS or WhatsApp) through the outbox. A new or waiting ticket moves to in_progress.",
            "`delivery.status`: `queued` (sent within seconds); `held` (WhatsApp, the resident last wrote over 24 hours ago: the reply",
            "goes out when they answer, and the approved template is queued to invite them, once per wait); `not_sent` with",
            "`reason: opted_out` (the resident sent STOP).",
          ].join(" "),
          requestBody: jsonBody("ReplyRequest", { reply: { body: "شكراً، فريق الأشغال سيصل غداً صباحاً." } }),
          responses: {
            "201": {
              description: "The reply was recorded; see `delivery` for what becomes of it.",
              content: {
                "application/json": {
                  schema: ref("ReplyResponse"),
                  examples: {
                    queued: { value: { delivery: { status: "queued", messageId: 812 } } },
                    held: { value: { delivery: { status: "held", messageId: 813, templateQueued: true } } },
                    optedOut: { value: { delivery: { status: "not_sent", messageId: 814, reason: "opted_out" } } },
                  } satisfies Record<string, { value: z.input<typeof ReplyResponse> }>,
                },
              },
            },
            ...errors(400, 403, 404, 413),
          },
        },
      },
      "/tickets/{reference}/notes": {
        parameters: [reference],
        post: {
          operationId: "addNote",
          tags: ["tickets"],
          summary: "Add an internal note",
          description: "Part of the ticket's history; never sent to the resident.",
          requestBody: jsonBody("NoteRequest", { note: { text: "Called the contractor; crew booked for Tuesday." } }),
          responses: {
            "201": jsonResponse("The note was added.", "NoteResponse", {
              note: { text: "Called the contractor; crew booked for Tuesday.", author: { id: 7, displayName: "Rania" }, createdAt: "2026-03-14T09:12:00.000Z" },
            } satisfies z.input<typeof NoteResponse>),
            ...errors(400, 403, 404, 413),
          },
        },
      },
      "/tickets/{reference}/assignment": {
        parameters: [reference],
        post: {
          operationId: "assignTicket",
          tags: ["tickets"],
          summary: "Assign or unassign",
          description: 'To the token\'s staff member ("me"), a colleague who may work the ticket (an admin, or an agent of its department; anyone else is a 400), or nobody (null).',
          requestBody: jsonBody("AssignmentRequest", { me: { assigneeId: "me" }, colleague: { assigneeId: 7 }, nobody: { assigneeId: null } }),
          responses: { "200": changed, ...errors(400, 403, 404, 413) },
        },
      },
      "/tickets/{reference}/status": {
        parameters: [reference],
        post: {
          operationId: "changeTicketStatus",
          tags: ["tickets"],
          summary: "Change the status",
          description:
            "Resolving or closing notifies the resident in their language, on their channel, with the reference and how to reopen (\"reply 1\"); `delivery` says what became of that message. Setting the current status changes nothing.",
          requestBody: jsonBody("StatusRequest", { resolve: { status: "resolved" } }),
          responses: {
            "200": jsonResponse("The ticket after the change, and the notification's delivery when one was sent.", "TicketChangeResponse", {
              ticket: { ...EXAMPLE_SUMMARY, status: "resolved" },
              delivery: { status: "queued", messageId: 815 },
            } satisfies z.input<typeof TicketChangeResponse>),
            ...errors(400, 403, 404, 413),
          },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      parameters: {
        reference: {
          name: "reference",
          in: "path",
          required: true,
          description: "The ticket's public reference, digits only.",
          schema: { type: "string", pattern: "^[1-9][0-9]{0,8}$" },
          example: "10427",
        },
      },
      responses: {
        BadRequest: errorResponse("Invalid input: the message names every problem.", "Invalid request body: body: required; extra: Unrecognized key: \"bdy\""),
        Unauthorized: {
          ...errorResponse("Missing, malformed, unknown or revoked token, or its staff account is deactivated.", "Invalid API token: unknown, revoked, or its staff account is deactivated"),
          headers: { "WWW-Authenticate": { description: 'A Bearer challenge, e.g. `Bearer realm="baladiya-api", error="invalid_token"`.', schema: { type: "string" } } },
        },
        Forbidden: errorResponse("The token's staff member may not take this action.", "Not allowed"),
        NotFound: errorResponse("No such ticket — or one of a department the token's staff member does not work.", "No ticket #10427"),
        PayloadTooLarge: errorResponse("The body is over 64 kB.", "Request body too large"),
      },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "A per-staff API token (`bld_…`), created and revoked by an admin in the staff pages. It acts with that staff member's role and departments.",
        },
      },
    },
  };
}

const ERROR_RESPONSES = { 400: "BadRequest", 403: "Forbidden", 404: "NotFound", 413: "PayloadTooLarge" } as const;

function errorResponse(description: string, example: string) {
  return { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" }, example: { error: example } } } };
}

/** Every named schema, converted once from zod; shared ones are referenced, not repeated. */
function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  const named: Record<string, z.ZodType> = {
    Error: ErrorResponse,
    StaffRef,
    CategoryRef,
    MediaItem,
    TicketSummary,
    TicketList,
    ConversationMessage,
    HistoryEvent,
    TicketDetail,
    Delivery,
    ReplyRequest,
    ReplyResponse,
    NoteRequest,
    NoteResponse,
    AssignmentRequest,
    StatusRequest,
    RecategorizeRequest,
    TicketChangeResponse,
  };
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io: "input",
    uri: (id) => `#/components/schemas/${id}`,
    // zod spells out an ISO date-time as a long regex; `format` already says it.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
      // …and every .int() as ± MAX_SAFE_INTEGER bounds, which say nothing to a reader.
      if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

const FILTERS: Record<keyof z.input<typeof TicketQuery>, { description: string; example?: unknown }> = {
  status: { description: "`open` (new, waiting_staff, in_progress; the default), `all`, or one status; repeat the parameter for several (`status=new&status=waiting_staff`).", example: "open" },
  category: { description: "A category code.", example: "roads" },
  department: { description: "A department code (agents only ever see their own departments).", example: "public_works" },
  channel: { description: "The channel the resident wrote on." },
  language: { description: "The ticket's language (`locale` in responses)." },
  childRelated: { description: "Only child-related tickets (true/1) or only the others (false/0)." },
  needsHuman: { description: "Only tickets whose resident asked for a person (true/1), or only the others (false/0)." },
  assignee: { description: "`me` (the token's staff member), `none` (unassigned) or a staff id.", example: "none" },
  olderThanDays: { description: "Only tickets created at least this many days ago.", example: 3 },
  q: { description: "Search: a reference (#10427, ١٠٤٢٧), part of a phone number (71 123 456), or words of the description or address.", example: "10427" },
  page: { description: "The page, from 1." },
  pageSize: { description: "Tickets per page (at most 200)." },
};

const FILTER_DOCS = new Map<string, { description: string; example?: unknown }>(Object.entries(FILTERS));

/** The queue filters as query parameters, from the same zod schema that parses them. */
function filterParameters(): Json[] {
  const schema = z.toJSONSchema(TicketQuery, { io: "input" });
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const doc = FILTER_DOCS.get(name);
    return {
      name,
      in: "query",
      required: false,
      ...(doc ? { description: doc.description } : {}),
      schema: property,
      ...(doc?.example !== undefined ? { example: doc.example } : {}),
      ...(name === "status" ? { style: "form", explode: true } : {}),
    };
  });
}

const EXAMPLE_SUMMARY = {
  reference: 10427,
  status: "in_progress",
  needsHuman: false,
  childRelated: false,
  channel: "whatsapp",
  route: "twilio",
  locale: "ar",
  department: "public_works",
  category: { code: "roads", nameAr: "طرقات وحفر", nameEn: "Roads and potholes" },
  description: "في جورة كبيرة بالطريق العام قرب الجامع",
  phoneMasked: "+961•••••456",
  assignee: { id: 7, displayName: "Rania" },
  createdAt: "2026-03-13T17:02:11.000Z",
  updatedAt: "2026-03-14T08:30:00.000Z",
} satisfies z.input<typeof TicketSummary>;

const { phoneMasked: _masked, ...EXAMPLE_TICKET } = EXAMPLE_SUMMARY;

const EXAMPLE_DETAIL = {
  ...EXAMPLE_TICKET,
  assignee: { id: 7, displayName: "Rania", username: "rania" },
  resident: { phone: "+96171123456", locale: "ar", optedOut: false, profileName: "Rima" },
  location: { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias Municipality", mapUrl: "https://www.openstreetmap.org/?mlat=33.7934&mlon=35.8237#map=18/33.7934/35.8237" },
  address: null,
  media: [{ url: "https://api.twilio.com/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME…", contentType: "image/jpeg" }],
  messages: [
    { id: 801, direction: "inbound", channel: "whatsapp", route: "twilio", kind: "resident", body: "في جورة كبيرة بالطريق العام قرب الجامع", media: [], location: null, status: "received", errorCode: null, errorMessage: null, author: null, createdAt: "2026-03-13T17:01:40.000Z" },
    { id: 812, direction: "outbound", channel: "whatsapp", route: "twilio", kind: "staff", body: "شكراً، فريق الأشغال سيصل غداً صباحاً.", media: [], location: null, status: "delivered", errorCode: null, errorMessage: null, author: { id: 7, displayName: "Rania" }, createdAt: "2026-03-14T08:30:00.000Z" },
  ],
  history: [
    { kind: "created", actorType: "resident", actor: null, data: { channel: "whatsapp", route: "twilio", needsHuman: false }, createdAt: "2026-03-13T17:02:11.000Z" },
    { kind: "reply", actorType: "staff", actor: { id: 7, displayName: "Rania" }, data: { messageId: 812, delivery: "queued" }, createdAt: "2026-03-14T08:30:00.000Z" },
    { kind: "status_changed", actorType: "staff", actor: { id: 7, displayName: "Rania" }, data: { from: "new", to: "in_progress" }, createdAt: "2026-03-14T08:30:00.000Z" },
  ],
  whatsappWindow: { open: true, lastInboundAt: "2026-03-13T17:01:40.000Z" },
} satisfies z.input<typeof TicketDetail>;
