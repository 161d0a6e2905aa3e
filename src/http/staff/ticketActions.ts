import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Tx } from "../../db/createDb.js";
import { assertNever } from "../../lib/assertNever.js";
import { HttpError } from "../../lib/httpError.js";
import { smsCost } from "../../lib/smsSegments.js";
import type { Enqueued, OutboxContext } from "../../services/outbox.js";
import { DEFAULT_CHILD_ZONE_METRES } from "../../services/places/placeTypes.js";
import { setTicketLocation, type SetTicketLocationResult } from "../../services/places/setTicketLocation.js";
import {
  addNote,
  assignTicket,
  changeStatus,
  MAX_PUBLIC_NOTE,
  readPublicNote,
  recategorize,
  replyToTicket,
  retryDelivery,
  sendBySmsInstead,
  setOpen311Hidden,
  ticketForActor,
  type ActionResult,
  type DeliveryActionResult,
  type StatusNotice,
} from "../../services/staffActions.js";
import { PRESENCE_STATES, recordPresence } from "../../services/presence.js";
import { foldDigits } from "../../understand/foldDigits.js";
import type { RouterDeps } from "../createApp.js";
import { channelLabel } from "./components.js";
import { redirectWithFlash, type FlashMessage } from "./flash.js";
import { localName } from "./format.js";
import { html } from "./html.js";
import { csrfField, staffPage } from "./layout.js";
import { staffContext, type StaffContext, type Translate } from "./staffContext.js";
import { bidiText, parseReference, presenceJson } from "./ticketPage.js";

const MAX_REPLY = 1600;
const MAX_NOTE = 5000;

const ReplyForm = z.object({ body: z.string().max(20_000).catch("") });
const NoteForm = z.object({ note: z.string().max(50_000).catch("") });
const AssignForm = z.object({ assignee: z.union([z.enum(["me", "none"]), z.coerce.number().int().positive()]) });
const CategoryForm = z.object({
  category: z.string().regex(/^[a-z_]*$/).catch(""),
  department: z.string().regex(/^[a-z_]*$/).catch(""),
});
// No length limit on the note here: a long one is refused with a message below, never dropped.
// `confirm=yes` comes from the confirmation page: without it, a change that tells the resident asks first.
const StatusForm = z.object({ status: z.string().max(40), publicNote: z.string().optional(), confirm: z.literal("yes").optional().catch(undefined) });
const PresenceForm = z.object({ state: z.enum([...PRESENCE_STATES, "left"]) });
const VisibilityForm = z.object({ hidden: z.enum(["true", "false"]).transform((v) => v === "true") });
const SmsCostRequest = z.object({ text: z.string().max(20_000) });
const LocationForm = z.object({ latitude: z.string().max(100).catch(""), longitude: z.string().max(100).catch("") });

/** A decimal number as staff type it: Arabic-Indic digits and the Arabic decimal mark too. */
const DECIMAL = /^[-+]?\d{1,3}(?:\.\d{1,15})?$/;
const decimal = (text: string): number | null => {
  // Direction marks come along when a point is copied from right-to-left text.
  const folded = foldDigits(text.normalize("NFKC")).replace(/[\u200e\u200f\u061c]/g, "").replace(/\u066b/g, ".").trim();
  return DECIMAL.test(folded) ? Number(folded) : null;
};

/**
 * The point of the location form, or null when it is not two numbers. "33.7951, 35.8262" pasted
 * into the latitude field (as map sites copy a point) is read as both when the longitude is empty.
 */
export function parsePoint(form: { latitude: string; longitude: string }): { latitude: number; longitude: number } | null {
  const pair = form.longitude.trim() === "" ? form.latitude.trim().split(/\s*[,\u060c]\s*|\s+/) : [form.latitude, form.longitude];
  if (pair.length !== 2) return null;
  const latitude = decimal(pair[0]!);
  const longitude = decimal(pair[1]!);
  return latitude === null || longitude === null ? null : { latitude, longitude };
}

/** A message id from the URL; anything else names no message (refused as "not failed"). */
function parseMessageId(raw: unknown): number {
  return typeof raw === "string" && /^\d{1,10}$/.test(raw) ? Number(raw) : 0;
}

/** What the staff member reads after a message was handed to the outbox. */
export function deliveryOutcome(t: Translate, delivery: Enqueued, what: "reply" | "notification"): FlashMessage {
  switch (delivery.status) {
    case "queued":
      return { kind: "success", text: t(`outcome.${what}.queued`) };
    case "held":
      return { kind: "info", text: t(delivery.templateQueued ? `outcome.${what}.heldTemplate` : `outcome.${what}.held`) };
    case "not_sent":
      return { kind: "error", text: t(`outcome.${what}.notSent`, { reason: t(`delivery.reason.${delivery.reason}`) }) };
    default:
      return assertNever(delivery);
  }
}

/** A page shown instead of acting: the action's confirmation step. */
interface AskFirst {
  page: string;
}

/**
 * "Close ticket #… ?": the confirmation step of a status change that tells the resident (resolved,
 * closed), with the message they will receive, and a form that sends the same change with
 * `confirm=yes`. Works without scripts; cancelling is a link back to the ticket.
 */
function statusConfirmation(ctx: StaffContext, reference: number, form: { status: string; publicNote?: string | undefined }, notice: StatusNotice): string {
  const { t } = ctx;
  const status = form.status === "closed" ? "closed" : "resolved";
  const read = readPublicNote(form.publicNote);
  const publicNote = read.ok ? read.note : null;
  const title = t(`ticketPage:confirm.title_${status}`, { reference });
  const body = html`<section class="card form-card status-confirm" aria-labelledby="confirm-title">
  <h1 id="confirm-title">${title}</h1>
  ${
    notice.optedOut
      ? html`<p class="notice notice-warn" role="note">${t("ticketPage:confirm.optedOut")}</p>`
      : html`<p>${t("ticketPage:confirm.tells", { channel: channelLabel(t, notice.channel), language: t(`language.${notice.locale}`) })}</p>
  <blockquote class="notice-preview" dir="auto" lang="${notice.locale}">${bidiText(notice.body)}</blockquote>`
  }
  ${publicNote && html`<p>${t("ticketPage:confirm.publicNote")}</p><blockquote class="notice-preview public-note-preview" dir="auto">${bidiText(publicNote)}</blockquote>`}
  <form method="post" action="/staff/tickets/${reference}/status" class="actions">
    ${csrfField(ctx)}
    <input type="hidden" name="status" value="${status}">
    ${publicNote && html`<input type="hidden" name="publicNote" value="${publicNote}">`}
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="btn btn-primary">${t(notice.optedOut ? `ticketPage:confirm.submitSilent_${status}` : `ticketPage:confirm.submit_${status}`)}</button>
    <a class="btn btn-ghost" href="/staff/tickets/${reference}">${t("ticketPage:confirm.cancel")}</a>
  </form>
</section>`;
  return staffPage(ctx, `/staff/tickets/${reference}`, { title, section: "queue", body, pageStyles: ["ticket.css"] });
}

/**
 * The forms of the ticket page (reply, note, assign, recategorize, status), each a POST that
 * redirects back with what happened; and `POST /staff/sms-cost` for the live SMS counter.
 */
export function ticketActions(deps: RouterDeps): Router {
  const router = Router();
  const outboxContext = (): OutboxContext => ({ ...deps.outbox, now: deps.clock() });

  /**
   * Runs an action in one transaction, then redirects back to the ticket with its outcome — or,
   * when the action asks first (`success` returns a page), shows that page.
   */
  async function act<T extends object>(
    req: Request,
    res: Response,
    run: (tx: Tx, ctx: StaffContext, reference: number) => Promise<ActionResult<T> | FlashMessage>,
    success: (result: { ok: true } & T, ctx: StaffContext) => FlashMessage[] | AskFirst,
  ) {
    const ctx = staffContext(req);
    const reference = parseReference(req.params.reference);
    const back = `/staff/tickets/${reference}`;
    const { result, stillVisible } = await deps.db.$transaction(async (tx) => {
      const result = await run(tx, ctx, reference);
      // Moving a ticket to another department takes it out of an agent's reach.
      const stillVisible = "kind" in result || !result.ok || (await ticketForActor(tx, ctx.actor, reference)) !== null;
      return { result, stillVisible };
    });
    if ("kind" in result) return redirectWithFlash(res, deps, back, [result]);
    if (result.ok) {
      const answer = success(result, ctx);
      if (!Array.isArray(answer)) return res.status(200).set("Cache-Control", "no-store").type("html").send(answer.page);
      if (!stillVisible) return redirectWithFlash(res, deps, "/staff", [...answer, { kind: "info", text: ctx.t("actions.movedAway", { reference }) }]);
      return redirectWithFlash(res, deps, back, answer);
    }
    if (result.error === "not_found") throw new HttpError(404, result.message);
    if (result.error === "forbidden") throw new HttpError(403, result.message);
    deps.logger.info({ reference, error: result.message }, "staff action refused");
    return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("errors.actionRefused", { detail: result.message }) }]);
  }

  router.post("/tickets/:reference/reply", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => {
        const text = ReplyForm.parse(req.body ?? {}).body.trim();
        if (!text) return { kind: "error", text: ctx.t("reply.errors.empty") };
        if (text.length > MAX_REPLY) return { kind: "error", text: ctx.t("reply.errors.tooLong", { max: MAX_REPLY }) };
        const result = await replyToTicket(tx, outboxContext(), ctx.actor, reference, text);
        return !result.ok && result.error === "refused" ? { kind: "error", text: ctx.t(`open311Ticket:reply.refused.${result.reason}`) } : result;
      },
      (result, ctx) => [deliveryOutcome(ctx.t, result.delivery, "reply")],
    ),
  );

  router.post("/tickets/:reference/note", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => {
        const text = NoteForm.parse(req.body ?? {}).note.trim();
        if (!text) return { kind: "error", text: ctx.t("note.errors.empty") };
        if (text.length > MAX_NOTE) return { kind: "error", text: ctx.t("note.errors.tooLong", { max: MAX_NOTE }) };
        return addNote(tx, ctx.actor, reference, text, deps.clock());
      },
      (_result, ctx) => [{ kind: "success", text: ctx.t("note.added") }],
    ),
  );

  router.post("/tickets/:reference/assign", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => {
        const form = AssignForm.safeParse(req.body ?? {});
        if (!form.success) return { kind: "error", text: ctx.t("actions.errors.assignee") };
        const { assignee } = form.data;
        const assigneeId = assignee === "me" ? ctx.actor.id : assignee === "none" ? null : assignee;
        const result = await assignTicket(tx, ctx.actor, reference, assigneeId, deps.clock());
        return !result.ok && result.error === "invalid" ? { kind: "error", text: ctx.t("actions.errors.assignee") } : result;
      },
      (_result, ctx) => [{ kind: "success", text: ctx.t("actions.assigned") }],
    ),
  );

  router.post("/tickets/:reference/category", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => {
        const form = CategoryForm.parse(req.body ?? {});
        const change = {
          ...(form.category ? { categoryCode: form.category } : {}),
          ...(form.department ? { department: form.department } : {}),
        };
        const result = await recategorize(tx, ctx.actor, reference, change, deps.clock());
        return !result.ok && result.error === "invalid" ? { kind: "error", text: ctx.t("actions.errors.category") } : result;
      },
      (_result, ctx) => [{ kind: "success", text: ctx.t("actions.recategorized") }],
    ),
  );

  router.post("/tickets/:reference/status", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => {
        const form = StatusForm.safeParse(req.body ?? {});
        if (!form.success) return { kind: "error", text: ctx.t("actions.errors.status") };
        // Checked here too, to say what is wrong with the note in the staff member's language.
        const note = readPublicNote(form.data.publicNote);
        if (!note.ok) return { kind: "error", text: ctx.t(`open311Staff:publicNote.errors.${note.reason}`, { max: MAX_PUBLIC_NOTE }) };
        const askFirst = form.data.confirm !== "yes";
        const result = await changeStatus(tx, outboxContext(), ctx.actor, reference, form.data.status, note.note ?? undefined, { askFirst });
        return !result.ok && result.error === "invalid" ? { kind: "error", text: ctx.t("actions.errors.status") } : result;
      },
      (result, ctx) => {
        const form = StatusForm.parse(req.body);
        const status = ctx.t(`status.${form.status}`);
        switch (result.outcome) {
          case "confirm":
            return result.notice ? { page: statusConfirmation(ctx, parseReference(req.params.reference), form, result.notice) } : [];
          case "unchanged":
            return [{ kind: "info", text: ctx.t("open311Staff:publicNote.unchanged", { status }) }];
          case "noted":
            return [{ kind: "success", text: ctx.t("open311Staff:publicNote.saved", { status }) }];
          case "changed": {
            const messages: FlashMessage[] = [{ kind: "success", text: ctx.t("actions.statusChanged", { status }) }];
            if (result.delivery) messages.push(deliveryOutcome(ctx.t, result.delivery, "notification"));
            return messages;
          }
          default:
            return assertNever(result.outcome);
        }
      },
    ),
  );

  // The state wanted, not a toggle: a form sent twice (or from two tabs) does not undo itself.
  router.post("/tickets/:reference/open311-visibility", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => {
        const form = VisibilityForm.safeParse(req.body ?? {});
        if (!form.success) {
          // Someone else's ticket is a 404 whatever the form says.
          if (!(await ticketForActor(tx, ctx.actor, reference))) return { ok: false, error: "not_found", message: `No ticket #${reference}` };
          return { kind: "error", text: ctx.t("open311Staff:visibility.invalid") };
        }
        return setOpen311Hidden(tx, ctx.actor, reference, form.data.hidden, deps.clock());
      },
      (result, ctx) => {
        const hidden = VisibilityForm.parse(req.body).hidden;
        const reference = parseReference(req.params.reference);
        const key = hidden ? (result.changed ? "hidden" : "alreadyHidden") : result.changed ? "shown" : "alreadyShown";
        return [{ kind: result.changed ? "success" : "info", text: ctx.t(`open311Staff:visibility.${key}`, { reference }) }];
      },
    ),
  );

  router.post("/tickets/:reference/location", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference): Promise<Exclude<SetTicketLocationResult, { error: "refused" }> | FlashMessage> => {
        const point = parsePoint(LocationForm.parse(req.body ?? {}));
        if (!point) return { kind: "error", text: ctx.t("geo:setPoint.errors.notNumbers") };
        const zoneMetres = deps.map?.childZoneMetres ?? DEFAULT_CHILD_ZONE_METRES;
        const result = await setTicketLocation(tx, ctx.actor, reference, point, { zoneMetres, now: deps.clock() });
        return !result.ok && result.error === "refused" ? { kind: "error", text: ctx.t(`geo:setPoint.errors.${result.reason}`) } : result;
      },
      (result, ctx) => {
        const { t, locale } = ctx;
        if (!result.changed) return [{ kind: "info", text: t("geo:setPoint.unchanged") }];
        const messages: FlashMessage[] = [
          { kind: "success", text: result.area ? t("geo:setPoint.savedInArea", { area: localName(result.area, locale) }) : t("geo:setPoint.saved") },
        ];
        if (result.zonePlace && result.placement.childZoneMetres !== null) {
          const where = { place: localName(result.zonePlace, locale), metres: result.placement.childZoneMetres };
          messages.push({ kind: "info", text: t(result.becameChildRelated ? "geo:setPoint.nowChildRelated" : "geo:setPoint.inChildZone", where) });
        }
        return messages;
      },
    ),
  );

  /** A refused delivery action becomes a flash in the staff member's language. */
  const explained = <T extends object>(ctx: StaffContext, result: DeliveryActionResult<T>): ActionResult<T> | FlashMessage =>
    !result.ok && result.error === "refused" ? { kind: "error", text: ctx.t(`outbox.refused.${result.reason}`) } : result;

  router.post("/tickets/:reference/messages/:message/retry", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => explained(ctx, await retryDelivery(tx, outboxContext(), ctx.actor, reference, parseMessageId(req.params.message))),
      (_result, ctx) => [{ kind: "success", text: ctx.t("outbox.retried") }],
    ),
  );

  router.post("/tickets/:reference/messages/:message/send-by-sms", (req, res) =>
    act(
      req,
      res,
      async (tx, ctx, reference) => explained(ctx, await sendBySmsInstead(tx, outboxContext(), ctx.actor, reference, parseMessageId(req.params.message))),
      (result, ctx) => [{ kind: "success", text: ctx.t("outbox.sentBySms") }, deliveryOutcome(ctx.t, result.delivery, "reply")],
    ),
  );

  // A ticket page's heartbeat (ticket.js): JSON from fetch, or a form-encoded "left" from sendBeacon.
  router.post("/tickets/:reference/presence", async (req, res) => {
    const ctx = staffContext(req);
    const reference = parseReference(req.params.reference);
    const form = PresenceForm.safeParse(req.body ?? {});
    if (!form.success) throw new HttpError(400, "Expected { state: viewing | replying | left }");
    const result = await recordPresence(deps.db, ctx.actor, reference, form.data.state, deps.clock());
    // Someone else's ticket: as if it did not exist, and nothing recorded.
    if (!result.ok) throw new HttpError(404, "No such ticket");
    res.set("Cache-Control", "no-store").json(presenceJson(ctx.t, result.others));
  });

  router.post("/sms-cost", (req, res) => {
    const { t } = staffContext(req);
    const parsed = SmsCostRequest.safeParse(req.body ?? {});
    if (!parsed.success) throw new HttpError(400, "Expected { text }");
    const cost = smsCost(parsed.data.text);
    res.json({ ...cost, label: t("reply.smsCost", { count: cost.segments, encoding: cost.encoding, characters: cost.characters }) });
  });

  return router;
}
