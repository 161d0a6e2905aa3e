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
  Open311Submission,
  OverBudgetMessage,
  AreaFeatureCollection,
  ChildIndicatorsResponse,
  ChildReason,
  PlaceFeatureCollection,
  RecategorizeRequest,
  ReplyRequest,
  RequestFeatureCollection,
  RequestProperties,
  RequestsGeoJsonQuery,
  ReplyResponse,
  ScheduleRequest,
  StaffRef,
  StatusRequest,
  SurveyActionRequest,
  SurveyCreated,
  SurveyDefinition,
  SurveyDetail,
  SurveyEstimate,
  SurveyGroupResult,
  SurveyList,
  SurveyOptionCount,
  SurveyQuestionResult,
  SurveyRecipients,
  SurveyRefused,
  SurveyResults,
  SurveyRunComparison,
  SurveyRunResult,
  SurveyScheduled,
  SurveyStatusResponse,
  SurveySummary,
  TicketChangeResponse,
  TicketDetail,
  QueueTicket,
  TicketList,
  TicketQuery,
  TicketSummary,
  TicketTarget,
} from "./apiSchemas.js";
import { REQUEST_EXPORT_LIMIT } from "../../services/places/geojsonExport.js";

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
      summary: "The service-request queue and the resident surveys of the municipality, for other municipal systems.",
      description: [
        "The same tickets and actions staff have in the browser. Authenticate with a per-staff API token that an admin creates in the staff pages:",
        "`Authorization: Bearer bld_…`. The token acts with its staff member's role: agents see and act on their departments' tickets only",
        "(another department's ticket is a 404, exactly like one that does not exist); admins see everything.",
        "",
        "Tickets are identified by their public reference (the number residents see, e.g. #10427). Dates are ISO 8601 in UTC.",
        "Every error is `{ \"error\": \"…\" }` with its status: 400 invalid input (naming every problem), 401 missing or bad token,",
        "403 not allowed, 404 not found, 409 a reply to a ticket with nobody to reply to, 413 body over 64 kB; survey actions add 409",
        "(wrong state, or a cost estimate that changed) and 422 (a survey that cannot be sent as defined), both with a `code`.",
        "",
        "Besides residents' own requests (SMS, WhatsApp), tickets include requests other civic tools filed through Open311",
        "(`channel: open311`, with an `open311` block saying what the client sent). One filed without a phone number has no",
        "resident (`resident: null`, `phoneMasked: null`): replies to it are refused with 409, and a status change notifies nobody —",
        "write a `publicNote`, which the client's users read.",
        "",
        "Surveys (tag `surveys`) need an admin's token or one of a staff member with the surveys permission. An admin can also create a",
        "token from the command line: `npm run --silent staff:api-token -- --username NAME --name LABEL` prints it once.",
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
      {
        name: "surveys",
        description:
          "Periodic surveys of the residents who joined them (SMS and WhatsApp): define, see the cost, schedule, pause, resume, cancel, read the results. Admins' tokens, and tokens of staff with the surveys permission; anyone else gets 403.",
      },
      {
        name: "map",
        description:
          "GeoJSON (RFC 7946, `application/geo+json`) of the requests, places and areas, for QGIS, geojson.io and other GIS tools: positions are [longitude, latitude], WGS84, 6 decimals. Requests are scoped like the queue.",
      },
      {
        name: "indicators",
        description:
          "The child-safety indicators of the staff page /staff/indicators: open child-related requests by area and category, open requests around each school and playground, median days to resolve, requests per 1,000 children. Scoped like the queue.",
      },
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
          description:
            "The tickets the token's staff member may see, one page at a time: by default overdue first, then near their target, then the longest waiting (`sort=created`: the oldest filed first). Each row says since when the resident has waited, whether the token's staff member has read the resident's latest message (in the browser), whether the resident reopened it, and where it stands against its category's targets. Phones are masked; open a ticket for the full number.",
          parameters: filterParameters(),
          responses: {
            "200": jsonResponse("One page of the queue.", "TicketList", { total: 1, page: 1, pageSize: 50, tickets: [EXAMPLE_QUEUE_TICKET] } satisfies z.input<typeof TicketList>),
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
          responses: {
            "200": {
              description: "The ticket.",
              content: { "application/json": { schema: ref("TicketDetail"), examples: { resident: { value: EXAMPLE_DETAIL }, open311: { value: EXAMPLE_OPEN311_DETAIL } } } },
            },
            ...errors(400, 404),
          },
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
            "`reason: opted_out` (the resident sent STOP). A ticket without a resident (filed through Open311 without a phone",
            "number) has nobody to reply to: 409, nothing recorded.",
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
            "409": { $ref: "#/components/responses/NoResident" },
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
            "Resolving or closing notifies the resident in their language, on their channel (SMS for a request filed through Open311 with a phone number), with the reference and how to reopen (\"reply 1\"); `delivery` says what became of that message. A ticket without a resident notifies nobody (no `delivery`). `publicNote` is published on Open311 with the status and never sent to the resident. Setting the current status changes nothing, unless a `publicNote` comes with it: then only the note is recorded (a `public_note` event) and nobody is notified.",
          requestBody: jsonBody("StatusRequest", { resolve: { status: "resolved" }, resolveWithNote: { status: "resolved", publicNote: "Pothole filled on 12 March." } }),
          responses: {
            "200": jsonResponse("The ticket after the change, and the notification's delivery when one was sent.", "TicketChangeResponse", {
              ticket: { ...EXAMPLE_SUMMARY, status: "resolved" },
              delivery: { status: "queued", messageId: 815 },
            } satisfies z.input<typeof TicketChangeResponse>),
            ...errors(400, 403, 404, 413),
          },
        },
      },
      ...surveyPaths(),
      ...geoPaths(),
      ...indicatorPaths(),
    },
    components: {
      schemas: componentSchemas(),
      parameters: {
        surveyId: {
          name: "id",
          in: "path",
          required: true,
          description: "The survey's id, digits only.",
          schema: { type: "string", pattern: "^[1-9][0-9]{0,9}$" },
          example: "12",
        },
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
        NoResident: errorResponse(
          "The ticket has no resident (another tool filed it through Open311 without a phone number): there is nobody to reply to. Change its status with a `publicNote` instead.",
          "Ticket #10428 came through Open311 without a phone number: there is nobody to reply to",
        ),
        SurveyNotFound: errorResponse("No such survey in this municipality.", "No survey #12"),
        SurveyForbidden: errorResponse(
          "The token's staff member is neither an admin nor has the surveys permission.",
          "Surveys need an admin's token or one of a staff member with the surveys permission",
        ),
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
    TicketTarget,
    QueueTicket,
    TicketList,
    ConversationMessage,
    HistoryEvent,
    Open311Submission,
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
    SurveyDefinition,
    ScheduleRequest,
    SurveyActionRequest,
    SurveyRecipients,
    OverBudgetMessage,
    SurveyEstimate,
    SurveyCreated,
    SurveyScheduled,
    SurveyStatusResponse,
    SurveySummary,
    SurveyList,
    SurveyDetail,
    SurveyRefused,
    SurveyOptionCount,
    SurveyQuestionResult,
    SurveyGroupResult,
    SurveyRunComparison,
    SurveyRunResult,
    SurveyResults,
    ChildReason,
    RequestProperties,
    RequestFeatureCollection,
    PlaceFeatureCollection,
    AreaFeatureCollection,
    ChildIndicatorsResponse,
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
  channel: { description: "Where the request came from: `sms` or `whatsapp` (the resident wrote there), or `open311` (another civic tool filed it)." },
  language: { description: "The ticket's language (`locale` in responses)." },
  childRelated: { description: "Only child-related tickets (true/1) or only the others (false/0)." },
  needsHuman: { description: "Only tickets whose resident asked for a person (true/1), or only the others (false/0)." },
  assignee: { description: "`me` (the token's staff member), `none` (unassigned) or a staff id.", example: "none" },
  olderThanDays: { description: "Only tickets created at least this many days ago.", example: 3 },
  q: {
    description:
      "Search: a reference (#10427, ١٠٤٢٧), part of a phone number (71 123 456), or words of the description, the address, the messages or the resident's WhatsApp name. Arabic is folded as the bot folds it (ة/ه, ى/ي, alef forms, tashkeel, digits: حفره finds حفرة); case does not matter; % and _ mean themselves.",
    example: "10427",
  },
  page: { description: "The page, from 1." },
  pageSize: { description: "Tickets per page (at most 200)." },
  sort: { description: "`target` (the default): overdue first, then near their target, then the longest waiting; `created`: the oldest filed first.", example: "target" },
};

const FILTER_DOCS = new Map<string, { description: string; example?: unknown }>(Object.entries(FILTERS));

/** The `run` query parameter of the survey results. */
const runQuery = (description: string): Json => ({ name: "run", in: "query", required: false, description, schema: { type: "integer", minimum: 1 }, example: 31 });

/** The queue filters as query parameters, from the same zod schema that parses them. */
const filterParameters = (): Json[] => queryParameters(z.toJSONSchema(TicketQuery, { io: "input" }), FILTER_DOCS);

/** Query parameters from a zod object's JSON schema, each with its description and example. */
function queryParameters(schema: { properties?: Record<string, unknown> }, docs: ReadonlyMap<string, { description: string; example?: unknown }>): Json[] {
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const doc = docs.get(name);
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
  open311Client: null,
  assignee: { id: 7, displayName: "Rania" },
  createdAt: "2026-03-13T17:02:11.000Z",
  updatedAt: "2026-03-14T08:30:00.000Z",
} satisfies z.input<typeof TicketSummary>;

const EXAMPLE_QUEUE_TICKET = {
  ...EXAMPLE_SUMMARY,
  waitingSince: null,
  unread: false,
  reopened: false,
  target: { state: "ok", dueAt: "2026-03-20T17:02:11.000Z" },
} satisfies z.input<typeof QueueTicket>;

const { phoneMasked: _masked, open311Client: _client, ...EXAMPLE_TICKET } = EXAMPLE_SUMMARY;

const EXAMPLE_DETAIL = {
  ...EXAMPLE_TICKET,
  assignee: { id: 7, displayName: "Rania", username: "rania" },
  resident: { phone: "+96171123456", locale: "ar", optedOut: false, profileName: "Rima" },
  open311: null,
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

/** A request another tool filed through Open311 without a phone number: no resident, no conversation. */
const EXAMPLE_OPEN311_DETAIL = {
  ...EXAMPLE_TICKET,
  reference: 10428,
  status: "new",
  channel: "open311",
  route: "open311",
  description: "Streetlight out on the main road since Monday",
  assignee: null,
  resident: null,
  open311: {
    client: { name: "FixMyStreet Bekaa", revoked: false },
    submittedAt: "2026-03-14T07:45:02.000Z",
    person: { firstName: "Rima", lastName: null, email: "rima@example.org", deviceId: null, accountId: "fms-5521" },
    mediaUrls: ["https://fixmystreet.example.org/photo/5521.jpeg"],
    attributes: [
      { code: "pole_number", question: { ar: "رقم العمود", en: "Pole number" }, values: [{ key: "B-117", name: null }] },
      { code: "lamp_state", question: { ar: "حالة المصباح", en: "Lamp state" }, values: [{ key: "off", name: { ar: "مطفأ", en: "Off" } }] },
    ],
  },
  location: { latitude: 33.7941, longitude: 35.8229, label: null, mapUrl: "https://www.openstreetmap.org/?mlat=33.7941&mlon=35.8229#map=18/33.7941/35.8229" },
  address: "Main road, by the pharmacy",
  media: [],
  messages: [],
  history: [
    {
      kind: "created",
      actorType: "system",
      actor: null,
      data: { channel: "open311", route: "open311", needsHuman: false, open311Client: { id: 3, name: "FixMyStreet Bekaa" } },
      createdAt: "2026-03-14T07:45:02.000Z",
    },
  ],
  whatsappWindow: null,
  createdAt: "2026-03-14T07:45:02.000Z",
  updatedAt: "2026-03-14T07:45:02.000Z",
} satisfies z.input<typeof TicketDetail>;

// ─── Surveys ────────────────────────────────────────────────────────────────────────────────

const schemaRef = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const responseRef = (id: string) => ({ $ref: `#/components/responses/${id}` });

function surveyErrors(...statuses: Array<400 | 403 | 404 | 413>) {
  const names = { 400: "BadRequest", 403: "SurveyForbidden", 404: "SurveyNotFound", 413: "PayloadTooLarge" } as const;
  return { "401": responseRef("Unauthorized"), ...Object.fromEntries(statuses.map((s) => [String(s), responseRef(names[s])])) };
}

function refused(description: string, examples: Record<string, z.input<typeof SurveyRefused>>) {
  return {
    description,
    content: { "application/json": { schema: schemaRef("SurveyRefused"), examples: Object.fromEntries(Object.entries(examples).map(([k, value]) => [k, { value }])) } },
  };
}

function surveyJson(description: string, id: string, example: unknown) {
  return { description, content: { "application/json": { schema: schemaRef(id), example } } };
}

function surveyBody(id: string, examples: Record<string, unknown>) {
  return {
    required: true,
    content: { "application/json": { schema: schemaRef(id), examples: Object.fromEntries(Object.entries(examples).map(([k, value]) => [k, { value }])) } },
  };
}

const EXAMPLE_RECIPIENTS = { total: 412, sms: 260, whatsapp: 152, byLocale: { ar: { sms: 221, whatsapp: 118 }, en: { sms: 39, whatsapp: 34 } } } satisfies z.input<typeof SurveyRecipients>;
const EXAMPLE_ESTIMATE = { recipients: EXAMPLE_RECIPIENTS, estimatedSegments: 1040, perResident: { ar: 4, en: 4 }, tooLong: [] } satisfies z.input<typeof SurveyEstimate>;
const EXAMPLE_QUESTIONS = [
  { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" }, options: [], min: 1, max: 5, area: false },
  {
    type: "choice",
    text: { ar: "ماذا يجب أن تصلح البلدية أولاً؟", en: "What should the municipality fix first?" },
    options: [
      { ar: "الطرقات", en: "Roads" },
      { ar: "الإنارة", en: "Street lights" },
    ],
    area: false,
  },
] satisfies z.input<typeof SurveyDetail>["questions"];

const EXAMPLE_RUN = {
  id: 31,
  number: 3,
  scheduledFor: "2026-03-01T08:00:00.000Z",
  closesAt: "2026-03-04T08:00:00.000Z",
  status: "closed",
  invited: 400,
  notReachable: 12,
  skipped: 0,
  expired: 0,
  pending: 0,
  started: 171,
  completed: 158,
  responseRate: 0.395,
  questions: [
    {
      index: 0,
      type: "rating",
      text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" },
      answered: 165,
      skipped: 6,
      counts: [1, 2, 3, 4, 5].map((n, i) => ({ value: String(n), label: { ar: String(n), en: String(n) }, count: [10, 15, 40, 60, 40][i]!, share: [10, 15, 40, 60, 40][i]! / 165 })),
      mean: 3.64,
      stats: null,
      answers: null,
    },
    {
      index: 1,
      type: "text",
      text: { ar: "ملاحظات؟", en: "Anything else?" },
      answered: 1,
      skipped: 157,
      counts: [],
      mean: null,
      stats: null,
      answers: [{ value: "الحاوية قرب المدرسة ممتلئة دائماً", phoneMasked: "+961•••••456", area: "Centre" }],
    },
  ],
  breakdown: {
    area: [{ key: "Centre", invited: 250, completed: 101, responseRate: 0.404, questions: [{ index: 0, answered: 104, mean: 3.7, counts: [5, 9, 25, 40, 25] }] }],
    language: [{ key: "ar", invited: 330, completed: 131, responseRate: 0.397, questions: [{ index: 0, answered: 137, mean: 3.6, counts: [9, 13, 34, 49, 32] }] }],
    channel: [{ key: "sms", invited: 252, completed: 90, responseRate: 0.357, questions: [{ index: 0, answered: 95, mean: 3.5, counts: [7, 10, 25, 33, 20] }] }],
  },
  comparison: {
    previousRunId: 22,
    previousNumber: 2,
    responseRateChange: 0.021,
    questions: [{ index: 0, type: "rating", meanChange: 0.2, previousMean: 3.44, shares: [{ value: "5", label: { ar: "5", en: "5" }, current: 0.24, previous: 0.2, change: 0.04 }] }],
  },
} satisfies z.input<typeof SurveyRunResult>;

/** The survey paths: every request and response schema is a component generated from apiSchemas.ts. */
function surveyPaths(): Record<string, PathItem> {
  const surveyId = { $ref: "#/components/parameters/surveyId" };
  const title = { ar: "رضا عن جمع النفايات", en: "Waste collection satisfaction" };
  const wrongState = (code: "not_scheduled" | "not_paused" | "already_cancelled", status: "draft" | "scheduled" | "paused" | "cancelled", error: string) =>
    refused("The survey is not in a state that allows this; `code` says why.", { [code]: { error, code, status } });
  const actionBody = surveyBody("SurveyActionRequest", { empty: {} });
  const action = (operationId: string, summary: string, description: string, status: "scheduled" | "paused" | "cancelled", conflict: ReturnType<typeof wrongState>) => ({
    parameters: [surveyId],
    post: {
      operationId,
      tags: ["surveys"],
      summary,
      description,
      requestBody: actionBody,
      responses: {
        "200": surveyJson("The survey after the change.", "SurveyStatusResponse", {
          id: 12,
          status,
          nextRunAt: status === "cancelled" ? null : "2026-04-01T07:00:00.000Z",
        } satisfies z.input<typeof SurveyStatusResponse>),
        "409": conflict,
        ...surveyErrors(400, 403, 404, 413),
      },
    },
  });

  return {
    "/surveys": {
      get: {
        operationId: "listSurveys",
        tags: ["surveys"],
        summary: "List the surveys",
        responses: {
          "200": surveyJson("Every survey of the municipality, newest first.", "SurveyList", {
            surveys: [
              {
                id: 12,
                title,
                status: "scheduled",
                questions: 2,
                recurrence: { kind: "monthly", day: 1, time: "10:00" },
                startAt: null,
                nextRunAt: "2026-04-01T07:00:00.000Z",
                runs: 3,
                lastRunAt: "2026-03-01T08:00:00.000Z",
                createdAt: "2025-12-20T09:00:00.000Z",
                updatedAt: "2026-03-01T08:00:00.000Z",
              },
            ],
          } satisfies z.input<typeof SurveyList>),
          ...surveyErrors(403),
        },
      },
      post: {
        operationId: "createSurvey",
        tags: ["surveys"],
        summary: "Define a survey (a draft) and see what a run costs",
        description: [
          "Creates a draft and answers with today's audience per channel and language and the SMS segments one run would cost",
          "(the invitation, every question and the thanks, rendered as the bot sends them, counted with the bot's segment counter).",
          "Nothing is sent: schedule the draft with POST /surveys/{id}/schedule, confirming `estimatedSegments`.",
          "`tooLong` lists messages over 2 SMS segments, which must be shortened (a new draft) before scheduling.",
        ].join(" "),
        requestBody: surveyBody("SurveyDefinition", {
          monthly: {
            title,
            intro: { ar: "سؤالان قصيران من البلدية.", en: "Two short questions from the municipality." },
            questions: EXAMPLE_QUESTIONS,
            audience: { channels: [], languages: [], areas: ["Centre"] },
            schedule: { startAt: null, recurrence: { kind: "monthly", day: 1, time: "10:00" } },
            expiryHours: 72,
          },
          once: {
            title: "Playgrounds",
            questions: [{ type: "yesno", text: { ar: "هل يوجد مكان آمن يلعب فيه أطفالك قرب المنزل؟", en: "Do your children have a safe place to play near home?" } }],
            schedule: { startAt: "2026-04-10T07:00:00.000Z", recurrence: { kind: "once" } },
          },
        } satisfies Record<string, z.input<typeof SurveyDefinition>>),
        responses: {
          "201": {
            ...surveyJson("The draft, with what one run would cost.", "SurveyCreated", { id: 12, status: "draft", ...EXAMPLE_ESTIMATE } satisfies z.input<typeof SurveyCreated>),
            headers: { Location: { description: "The new survey's URL.", schema: { type: "string" } } },
          },
          ...surveyErrors(400, 403, 413),
        },
      },
    },
    "/surveys/{id}": {
      parameters: [surveyId],
      get: {
        operationId: "getSurvey",
        tags: ["surveys"],
        summary: "One survey: its definition, status and today's cost",
        responses: {
          "200": surveyJson("The survey.", "SurveyDetail", {
            id: 12,
            status: "draft",
            title,
            intro: null,
            questions: EXAMPLE_QUESTIONS,
            audience: { channels: [], languages: [], areas: [] },
            schedule: { startAt: null, recurrence: { kind: "monthly", day: 1, time: "10:00" } },
            expiryHours: 72,
            nextRunAt: null,
            confirmedSegments: null,
            createdAt: "2026-03-20T09:00:00.000Z",
            updatedAt: "2026-03-20T09:00:00.000Z",
            estimate: EXAMPLE_ESTIMATE,
          } satisfies z.input<typeof SurveyDetail>),
          ...surveyErrors(400, 403, 404),
        },
      },
    },
    "/surveys/{id}/schedule": {
      parameters: [surveyId],
      post: {
        operationId: "scheduleSurvey",
        tags: ["surveys"],
        summary: "Schedule a draft, confirming its cost",
        description: [
          "The same two steps staff take: send the `estimatedSegments` you were shown. If the audience or the survey changed since,",
          "the answer is 409 `estimate_changed` with the new estimate, to confirm again. The first run starts at the survey's `startAt`",
          "(now if none) or, for a monthly or cron survey without a start, at its first occurrence (Beirut time).",
        ].join(" "),
        requestBody: surveyBody("ScheduleRequest", { confirm: { confirmedSegments: 1040 } }),
        responses: {
          "200": surveyJson("Scheduled.", "SurveyScheduled", {
            id: 12,
            status: "scheduled",
            nextRunAt: "2026-04-01T07:00:00.000Z",
            confirmedSegments: 1040,
            recipients: EXAMPLE_RECIPIENTS,
          } satisfies z.input<typeof SurveyScheduled>),
          "409": refused("The estimate changed (confirm the new `estimatedSegments`), or the survey is not a draft.", {
            estimateChanged: {
              error: "The estimate changed: a run now costs 1044 SMS segments for 413 recipients; confirm that number to schedule",
              code: "estimate_changed",
              status: "draft",
              estimatedSegments: 1044,
              recipients: { ...EXAMPLE_RECIPIENTS, total: 413, sms: 261, byLocale: { ...EXAMPLE_RECIPIENTS.byLocale, ar: { sms: 222, whatsapp: 118 } } },
            },
            notDraft: { error: "Survey #12 is scheduled: only a draft can be scheduled", code: "not_draft", status: "scheduled" },
          }),
          "422": refused("The survey cannot be sent as defined: a message over 2 SMS segments (`tooLong`), an unreadable cron expression, or a start in the past.", {
            tooLong: {
              error: "A message of the survey is over 2 SMS segments: shorten the texts listed in tooLong",
              code: "too_long",
              status: "draft",
              tooLong: [{ locale: "ar", kind: "question", question: 1, segments: 3, text: "…" }],
            },
            startInPast: { error: "The survey's start is in the past: set a new start (or none) in a new draft", code: "start_in_past", status: "draft" },
          }),
          ...surveyErrors(400, 403, 404, 413),
        },
      },
    },
    "/surveys/{id}/pause": action(
      "pauseSurvey",
      "Pause a scheduled survey",
      "No invitations go out until it is resumed; residents already invited can still answer.",
      "paused",
      wrongState("not_scheduled", "draft", "Survey #12 is draft: only a scheduled survey can be paused"),
    ),
    "/surveys/{id}/resume": action(
      "resumeSurvey",
      "Resume a paused survey",
      "Invitations go out again where they stopped.",
      "scheduled",
      wrongState("not_paused", "scheduled", "Survey #12 is scheduled: only a paused survey can be resumed"),
    ),
    "/surveys/{id}/cancel": action(
      "cancelSurvey",
      "Cancel a survey for good",
      "No new run, and invitations not yet sent are never sent. Answers already given are kept and shown in the results.",
      "cancelled",
      wrongState("already_cancelled", "cancelled", "Survey #12 is already cancelled"),
    ),
    "/surveys/{id}/results": {
      parameters: [surveyId],
      get: {
        operationId: "getSurveyResults",
        parameters: [runQuery("One run only (its comparison is with the run before it). Without it: the 12 newest runs.")],
        tags: ["surveys"],
        summary: "The results, run by run",
        description: [
          "Per run: invited, not reachable, started, completed, the response rate; per question the answered and skipped counts,",
          "the counts per option (choice, yes/no) or per point of the scale (rating: the distribution), the mean (rating, number),",
          "and the free answers (text) with the resident's phone masked; breakdowns by area, language and channel; the change since the previous run.",
        ].join(" "),
        responses: {
          "200": surveyJson("The results.", "SurveyResults", { survey: { id: 12, title, status: "scheduled" }, runs: [EXAMPLE_RUN] } satisfies z.input<typeof SurveyResults>),
          ...surveyErrors(400, 403, 404),
        },
      },
    },
    "/surveys/{id}/results.csv": {
      parameters: [surveyId],
      get: {
        operationId: "getSurveyResultsCsv",
        parameters: [runQuery("One run's responses only. Without it: every run.")],
        tags: ["surveys"],
        summary: "The responses as CSV",
        description: [
          "One row per response (an invitation that answered at least one question), every run oldest first: response_id, run, run_date,",
          "channel, language, area, started_at, completed_at, then one column per question (a choice as \"Roads (1)\").",
          "UTF-8 with a byte order mark (Excel reads the Arabic), CRLF line ends; no phone numbers.",
        ].join(" "),
        responses: {
          "200": {
            description: "The CSV file, as an attachment.",
            headers: { "Content-Disposition": { description: 'attachment; filename="survey-12-results.csv"', schema: { type: "string" } } },
            content: {
              "text/csv": {
                schema: { type: "string" },
                example: "response_id,run,run_date,channel,language,area,started_at,completed_at,Q1: How satisfied are you with waste collection this month?,Q2: What should the municipality fix first?\r\n5012,3,2026-03-01,sms,ar,Centre,2026-03-01T08:02:10.000Z,2026-03-01T08:04:51.000Z,4,Roads (1)\r\n",
              },
            },
          },
          ...surveyErrors(400, 403, 404),
        },
      },
    },
  };
}

// ─── GeoJSON ────────────────────────────────────────────────────────────────────────────────

const GEO_FILTERS: Record<keyof z.input<typeof RequestsGeoJsonQuery>, { description: string; example?: unknown }> = {
  status: {
    description:
      "`all` (the default), `open` (new, waiting_staff, in_progress), or one status; repeat the parameter for several (`status=resolved&status=closed`: the finished ones).",
    example: "open",
  },
  category: { description: "A category code.", example: "playgrounds" },
  department: { description: "A department code (agents only ever get their own departments' requests).", example: "public_works" },
  childRelated: { description: "Only child-related requests (true/1) or only the others (false/0)." },
  area: { description: "An area id (see GET /areas.geojson): only requests whose point falls in it.", example: 3 },
  from: {
    description: "Created on or after: a date (from the start of that day in Beirut) or a date-time with its offset.",
    example: "2026-03-01",
  },
  to: { description: "Created on or before: a date (until the end of that day in Beirut) or a date-time with its offset.", example: "2026-03-31" },
  lang: { description: "The language of the place and area names in `near_place`, `area` and `child_reason.place`: `en` (the default) or `ar`." },
};

/** The filters of GET /requests.geojson as query parameters, from the zod schema that parses them. */
const geoFilterParameters = (): Json[] =>
  queryParameters(z.toJSONSchema(RequestsGeoJsonQuery, { io: "input", unrepresentable: "any" }), new Map(Object.entries(GEO_FILTERS)));

function geoJsonResponse(description: string, id: string, example: unknown, headers: Json = {}) {
  return { description, headers, content: { "application/geo+json": { schema: { $ref: `#/components/schemas/${id}` }, example } } };
}

const EXAMPLE_REQUESTS = {
  type: "FeatureCollection",
  features: [
    {
      type: "Feature",
      id: 10431,
      geometry: { type: "Point", coordinates: [35.823712, 33.793401] },
      properties: {
        reference: 10431,
        category: { code: "playgrounds", name_ar: "حدائق وملاعب", name_en: "Parks and playgrounds" },
        status: "new",
        child_related: true,
        child_reason: { kind: "zone", place: "Qab Elias Public School", metres: 80 },
        near_place: "Qab Elias Public School",
        area: "Wadi al-Delm",
        approximate: true,
        created_at: "2026-03-14T07:12:40.000Z",
        resolved_at: null,
      },
    },
    {
      type: "Feature",
      id: 10427,
      geometry: { type: "Point", coordinates: [35.8237, 33.7934] },
      properties: {
        reference: 10427,
        category: { code: "roads", name_ar: "طرقات وحفر", name_en: "Roads and potholes" },
        status: "resolved",
        child_related: false,
        child_reason: null,
        near_place: null,
        area: "Centre",
        approximate: false,
        created_at: "2026-03-13T17:02:11.000Z",
        resolved_at: "2026-03-15T10:05:00.000Z",
      },
    },
  ],
} satisfies z.input<typeof RequestFeatureCollection>;

const EXAMPLE_PLACES = {
  type: "FeatureCollection",
  features: [
    {
      type: "Feature",
      id: 4,
      geometry: { type: "Point", coordinates: [35.82311, 33.79402] },
      properties: { id: 4, kind: "school", name_ar: "مدرسة قب الياس الرسمية", name_en: "Qab Elias Public School", child_related: true },
    },
  ],
} satisfies z.input<typeof PlaceFeatureCollection>;

const EXAMPLE_AREAS = {
  type: "FeatureCollection",
  features: [
    {
      type: "Feature",
      id: 3,
      geometry: {
        type: "Polygon",
        coordinates: [
          [
            [35.81, 33.78],
            [35.83, 33.78],
            [35.83, 33.8],
            [35.81, 33.8],
            [35.81, 33.78],
          ],
        ],
      },
      properties: { id: 3, name_ar: "وادي الدلم", name_en: "Wadi al-Delm", child_population: 1200 },
    },
  ],
} satisfies z.input<typeof AreaFeatureCollection>;

function geoPaths(): Record<string, PathItem> {
  const unauthorized = { "401": { $ref: "#/components/responses/Unauthorized" } };
  return {
    "/requests.geojson": {
      get: {
        operationId: "exportRequestsGeoJson",
        tags: ["map"],
        summary: "Requests as GeoJSON points",
        description: [
          "The requests the token's staff member may see (agents: their departments'; admins: all) that have a point — a pin the",
          "resident dropped, or the place their landmark was matched to (`approximate: true`) — filtered like the map, newest first.",
          `At most ${REQUEST_EXPORT_LIMIT.toLocaleString("en")} features: \`X-Total-Count\` says how many matched; narrow the dates to get the rest.`,
          "Never a phone number, a name, the request's words or anything of an account; payment reports are not exported.",
        ].join(" "),
        parameters: geoFilterParameters(),
        responses: {
          "200": geoJsonResponse("A FeatureCollection (RFC 7946) of points; each feature's id is the request's reference.", "RequestFeatureCollection", EXAMPLE_REQUESTS, {
            "X-Total-Count": { description: "Located requests matching the filters (more than the features when the limit cut the list).", schema: { type: "integer" } },
            "X-Result-Limit": { description: `The most features one export returns (${REQUEST_EXPORT_LIMIT}).`, schema: { type: "integer" } },
          }),
          ...unauthorized,
          "400": { $ref: "#/components/responses/BadRequest" },
        },
      },
    },
    "/places.geojson": {
      get: {
        operationId: "exportPlacesGeoJson",
        tags: ["map"],
        summary: "Places as GeoJSON points",
        description: "Every place of the municipality (schools, kindergartens, playgrounds, clinics, places of worship, pharmacies, landmarks); each feature's id is the place's.",
        responses: { "200": geoJsonResponse("A FeatureCollection (RFC 7946) of points.", "PlaceFeatureCollection", EXAMPLE_PLACES), ...unauthorized },
      },
    },
    "/areas.geojson": {
      get: {
        operationId: "exportAreasGeoJson",
        tags: ["map"],
        summary: "Areas as GeoJSON polygons",
        description: "Every area (neighbourhood) of the municipality, exterior rings counterclockwise; each feature's id is the area's (the `area` filter of GET /requests.geojson).",
        responses: { "200": geoJsonResponse("A FeatureCollection (RFC 7946) of Polygons and MultiPolygons.", "AreaFeatureCollection", EXAMPLE_AREAS), ...unauthorized },
      },
    },
  };
}

// ─── Indicators ─────────────────────────────────────────────────────────────────────────────

const EXAMPLE_INDICATORS = {
  generatedAt: "2026-03-15T08:00:00.000Z",
  scope: { allDepartments: true, departments: [] },
  zoneMetres: 150,
  openChildRelated: {
    total: 4,
    areas: [
      {
        area: { id: 3, nameAr: "وادي الدلم", nameEn: "Wadi al-Delm" },
        open: 3,
        categories: [
          { category: { code: "parks_playgrounds", nameAr: "حدائق وملاعب", nameEn: "Parks and playgrounds" }, open: 2 },
          { category: { code: "roads", nameAr: "طرقات وحفر", nameEn: "Roads and potholes" }, open: 1 },
        ],
      },
      { area: { id: 4, nameAr: "الوسط", nameEn: "Centre" }, open: 0, categories: [] },
      { area: null, open: 1, categories: [{ category: null, open: 1 }] },
    ],
  },
  places: [
    {
      place: { id: 4, kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School" },
      open: 2,
      oldestOpenCreatedAt: "2026-03-02T07:12:40.000Z",
      oldestOpenAgeDays: 13,
    },
    { place: { id: 9, kind: "playground", nameAr: "ملعب الحي", nameEn: "Neighbourhood playground" }, open: 0, oldestOpenCreatedAt: null, oldestOpenAgeDays: null },
  ],
  placesComplete: true,
  resolution: {
    thisMonth: {
      month: "2026-03",
      from: "2026-02-28T22:00:00.000Z",
      to: "2026-03-15T08:00:00.000Z",
      childRelated: { n: 3, medianDays: 2.5 },
      others: { n: 0, medianDays: null },
    },
    lastMonth: {
      month: "2026-02",
      from: "2026-01-31T22:00:00.000Z",
      to: "2026-02-28T22:00:00.000Z",
      childRelated: { n: 4, medianDays: 3.25 },
      others: { n: 11, medianDays: 6 },
    },
  },
  perThousandChildren: {
    from: "2025-03-14T22:00:00.000Z",
    to: "2026-03-15T08:00:00.000Z",
    areas: [
      { area: { id: 3, nameAr: "وادي الدلم", nameEn: "Wadi al-Delm" }, childPopulation: 1200, childRelatedRequests: 18, perThousand: 15 },
      { area: { id: 4, nameAr: "الوسط", nameEn: "Centre" }, childPopulation: null, childRelatedRequests: 7, perThousand: null },
    ],
    withoutArea: 2,
  },
} satisfies z.input<typeof ChildIndicatorsResponse>;

function indicatorPaths(): Record<string, PathItem> {
  return {
    "/indicators/children": {
      get: {
        operationId: "getChildIndicators",
        tags: ["indicators"],
        summary: "The child-safety indicators",
        description: [
          "Open child-related requests by area and category; for every child-related place (school, kindergarten, childcare, playground,",
          "schoolyard, park marked child-related) the open requests whose point is within `zoneMetres` of it and the age of the oldest;",
          "the median days from filing to resolution of child-related requests and of all others, for the requests resolved this month",
          "(so far) and last month (Beirut calendar months); child-related requests of the last 12 months per 1,000 children in each area",
          "whose child population an admin entered. Requests are counted as the token's staff member sees them (agents: their",
          "departments'). Counts, dates and names of places, areas and categories only: never a phone number, a name or a request's words.",
        ].join(" "),
        responses: {
          "200": { description: "The indicators, computed now.", content: { "application/json": { schema: { $ref: "#/components/schemas/ChildIndicatorsResponse" }, example: EXAMPLE_INDICATORS } } },
          "401": { $ref: "#/components/responses/Unauthorized" },
        },
      },
    },
  };
}
