import express, { Router } from "express";
import type { z } from "zod";
import type { Tx } from "../../db/createDb.js";
import { assertNever } from "../../lib/assertNever.js";
import { HttpError } from "../../lib/httpError.js";
import type { Enqueued } from "../../services/outbox.js";
import { addNote, assignTicket, changeStatus, recategorize, replyToTicket, type ActionError } from "../../services/staffActions.js";
import { listTickets, ticketDetail } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import {
  AssignmentRequest,
  NoteRequest,
  RecategorizeRequest,
  ReferenceParam,
  parseBody,
  parseInput,
  ReplyRequest,
  StatusRequest,
  TicketQuery,
  type Delivery,
  type NoteResponse,
  type ReplyResponse,
  type TicketChangeResponse,
  type TicketList,
} from "./apiSchemas.js";
import { apiActor, bearerAuth } from "./bearerAuth.js";
import { geoRoutes } from "./geoApi.js";
import { indicatorsApiRoutes } from "./indicatorsApi.js";
import { openApiDocument } from "./openApiDocument.js";
import { surveyRoutes } from "./surveysApi.js";
import { serializeQueueRow } from "./serializeQueueRow.js";
import { serializeTicket } from "./serializeTicket.js";
import { ticketSummary } from "./ticketSummary.js";

/**
 * The JSON API for other municipal systems, mounted at /api/v1: the ticket queue and the same
 * actions staff take in the browser, authenticated with per-staff bearer tokens and bound by the
 * same role rules (an agent's view of another department's ticket is a 404, like a missing one).
 * Each route parses its input with zod (400 listing the problems), runs one service call in one
 * transaction, and maps the result. The survey routes (surveysApi.ts), the GeoJSON exports
 * (geoApi.ts) and the indicators (indicatorsApi.ts) are registered on this same router.
 * Documented at GET /api/v1/openapi.json.
 */
export function apiRouter(deps: RouterDeps): Router {
  const router = Router();
  const auth = bearerAuth(deps);
  const json = express.json({ limit: "64kb" });
  const outbox = () => ({ ...deps.outbox, now: deps.clock() });
  const document = openApiDocument({ serverUrl: `${deps.publicBaseUrl.replace(/\/+$/, "")}/api/v1` });

  router.get("/openapi.json", (_req, res) => {
    res.json(document);
  });

  router.get("/tickets", auth, async (req, res) => {
    const actor = apiActor(req);
    const filters = parseInput(TicketQuery, req.query, "query string");
    const { rows, total } = await deps.db.$transaction((tx) => listTickets(tx, actor, filters, deps.clock()));
    res.json({ total, page: filters.page, pageSize: filters.pageSize, tickets: rows.map((row) => serializeQueueRow(row)) } satisfies z.input<typeof TicketList>);
  });

  router.get("/tickets/:reference", auth, async (req, res) => {
    const actor = apiActor(req);
    const { reference } = parseInput(ReferenceParam, req.params, "path");
    const ticket = await deps.db.$transaction(async (tx) => {
      const detail = await ticketDetail(tx, actor, reference, deps.clock());
      return detail && serializeTicket(detail, await categoryCodes(tx, actor.municipalityId));
    });
    if (!ticket) throw new HttpError(404, `No ticket #${reference}`);
    res.json(ticket);
  });

  router.patch("/tickets/:reference", auth, json, async (req, res) => {
    const actor = apiActor(req);
    const { reference } = parseInput(ReferenceParam, req.params, "path");
    const change = parseBody(RecategorizeRequest, req.body);
    const body = await deps.db.$transaction(async (tx) => {
      const result = await recategorize(tx, actor, reference, change, deps.clock());
      if (!result.ok) throw actionFailed(result);
      return { ticket: await ticketSummary(tx, actor.municipalityId, reference) } satisfies z.input<typeof TicketChangeResponse>;
    });
    res.json(body);
  });

  router.post("/tickets/:reference/replies", auth, json, async (req, res) => {
    const actor = apiActor(req);
    const { reference } = parseInput(ReferenceParam, req.params, "path");
    const { body: text } = parseBody(ReplyRequest, req.body);
    const body = await deps.db.$transaction(async (tx) => {
      const result = await replyToTicket(tx, outbox(), actor, reference, text);
      // A ticket without a resident (filed through Open311 without a phone number): nobody to reply to.
      if (!result.ok) throw result.error === "refused" ? new HttpError(409, result.message) : actionFailed(result);
      return { delivery: serializeDelivery(result.delivery) } satisfies z.input<typeof ReplyResponse>;
    });
    res.status(201).json(body);
  });

  router.post("/tickets/:reference/notes", auth, json, async (req, res) => {
    const actor = apiActor(req);
    const { reference } = parseInput(ReferenceParam, req.params, "path");
    const { text } = parseBody(NoteRequest, req.body);
    const now = deps.clock();
    await deps.db.$transaction(async (tx) => {
      const result = await addNote(tx, actor, reference, text, now);
      if (!result.ok) throw actionFailed(result);
    });
    const author = { id: actor.id, displayName: actor.displayName };
    res.status(201).json({ note: { text, author, createdAt: now.toISOString() } } satisfies z.input<typeof NoteResponse>);
  });

  router.post("/tickets/:reference/assignment", auth, json, async (req, res) => {
    const actor = apiActor(req);
    const { reference } = parseInput(ReferenceParam, req.params, "path");
    const { assigneeId } = parseBody(AssignmentRequest, req.body);
    const body = await deps.db.$transaction(async (tx) => {
      const result = await assignTicket(tx, actor, reference, assigneeId === "me" ? actor.id : assigneeId, deps.clock());
      if (!result.ok) throw actionFailed(result);
      return { ticket: await ticketSummary(tx, actor.municipalityId, reference) } satisfies z.input<typeof TicketChangeResponse>;
    });
    res.json(body);
  });

  router.post("/tickets/:reference/status", auth, json, async (req, res) => {
    const actor = apiActor(req);
    const { reference } = parseInput(ReferenceParam, req.params, "path");
    const { status, publicNote } = parseBody(StatusRequest, req.body);
    const body = await deps.db.$transaction(async (tx) => {
      const result = await changeStatus(tx, outbox(), actor, reference, status, publicNote || undefined);
      if (!result.ok) throw actionFailed(result);
      const ticket = await ticketSummary(tx, actor.municipalityId, reference);
      return (result.delivery ? { ticket, delivery: serializeDelivery(result.delivery) } : { ticket }) satisfies z.input<typeof TicketChangeResponse>;
    });
    res.json(body);
  });

  // On this router (not a sub-router), so the routes are listed with the others.
  surveyRoutes(router, deps, auth);
  geoRoutes(router, deps, auth);
  indicatorsApiRoutes(router, deps, auth);

  router.use((req, _res, next) => next(new HttpError(404, `Not found: ${req.method} ${req.baseUrl}${req.path}`)));
  return router;
}

/** Staff actions answer with values; the API answers with their HTTP meaning. */
function actionFailed(failure: ActionError): HttpError {
  switch (failure.error) {
    case "not_found":
      return new HttpError(404, failure.message);
    case "forbidden":
      return new HttpError(403, failure.message);
    case "invalid":
      return new HttpError(400, failure.message);
    default:
      return assertNever(failure);
  }
}

/** The outbox's answer, field by field, so internal fields added to it later stay internal. */
function serializeDelivery(delivery: Enqueued): z.input<typeof Delivery> {
  switch (delivery.status) {
    case "queued":
      return { status: "queued", messageId: delivery.messageId };
    case "held":
      return { status: "held", messageId: delivery.messageId, templateQueued: delivery.templateQueued };
    case "not_sent":
      return { status: "not_sent", messageId: delivery.messageId, reason: delivery.reason };
    default:
      return assertNever(delivery);
  }
}

/** Category ids → codes, to show history in the codes the API speaks. */
async function categoryCodes(tx: Tx, municipalityId: string): Promise<Map<number, string>> {
  const categories = await tx.category.findMany({ where: { municipalityId }, select: { id: true, code: true } });
  return new Map(categories.map((c) => [c.id, c.code]));
}
