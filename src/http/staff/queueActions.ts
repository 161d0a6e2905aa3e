import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { TICKET_STATUSES, type TicketStatus } from "../../conversation/types.js";
import type { OutboxContext } from "../../services/outbox.js";
import { ticketScope } from "../../services/staff.js";
import { assignTicket, changeStatus, NOTIFIED, type ActionResult } from "../../services/staffActions.js";
import type { RouterDeps } from "../createApp.js";
import { safeStaffPath } from "./auth.js";
import { redirectWithFlash, type FlashMessage } from "./flash.js";
import { excerpt, localName } from "./format.js";
import { html } from "./html.js";
import { csrfField, staffPage } from "./layout.js";
import { staffContext, type StaffContext } from "./staffContext.js";

/** At most this many tickets in one bulk action (the queue's largest page). */
export const MAX_BULK = 200;
/** How many references a message lists before "…". */
const LISTED = 25;

const reference = z.string().regex(/^[1-9]\d{0,8}$/).transform(Number);
const References = z
  .union([reference, z.array(reference)])
  .optional()
  .transform((v) => [...new Set(v === undefined ? [] : Array.isArray(v) ? v : [v])]);
const Assignee = z.union([z.enum(["me", "none"]), z.coerce.number().int().positive().max(2_147_483_647)]);

const AssignToMeForm = z.object({ reference, back: z.string().max(2000).optional() });
const BulkForm = z.object({
  reference: References,
  do: z.enum(["assign", "status"]),
  assignee: Assignee.optional(),
  status: z.enum(TICKET_STATUSES).optional(),
  confirm: z.literal("yes").optional(),
  back: z.string().max(2000).optional(),
});
type BulkForm = z.infer<typeof BulkForm>;

/** "#12, #15, #19" ("#12، #15، #19" in Arabic): the first LISTED, then "…". */
function listed(ctx: StaffContext, references: readonly number[]): string {
  const comma = ctx.locale === "ar" ? "، " : ", ";
  return `${references.slice(0, LISTED).map((r) => `#${r}`).join(comma)}${references.length > LISTED ? `${comma}…` : ""}`;
}

/** Why tickets of a bulk action were left as they were, one message per reason. */
type Refusal = "not_found" | "assignee" | "invalid" | "unchanged" | "notNotified";

/**
 * The queue's actions: "assign to me" on one row, and the bulk actions on the ticked rows (assign,
 * change status). Each ticket goes through the same service function as on the ticket page, with the
 * same scope; a bulk action runs in one transaction and reports, per reason, the tickets it left
 * alone. Resolving or closing in bulk messages every resident: it shows what will be sent and asks
 * once more (`confirm=yes`).
 */
export function queueActions(deps: RouterDeps): Router {
  const router = Router();
  const outboxContext = (): OutboxContext => ({ ...deps.outbox, now: deps.clock() });

  router.post("/queue/assign-to-me", async (req, res) => {
    const ctx = staffContext(req);
    const form = AssignToMeForm.safeParse(req.body ?? {});
    const back = safeStaffPath(form.success ? form.data.back : undefined);
    if (!form.success) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("inbox:bulk.noneSelected") }]);
    const ref = form.data.reference;
    const result = await deps.db.$transaction((tx) => assignTicket(tx, ctx.actor, ref, ctx.actor.id, deps.clock()));
    if (result.ok) return redirectWithFlash(res, deps, back, [{ kind: "success", text: ctx.t("inbox:assignedToYou", { reference: ref }) }]);
    const text = result.error === "invalid" ? ctx.t("actions.errors.assignee") : ctx.t("inbox:bulk.refused.not_found", { count: 1, references: listed(ctx, [ref]) });
    return redirectWithFlash(res, deps, back, [{ kind: "error", text }]);
  });

  router.post("/queue/bulk", async (req, res) => {
    const ctx = staffContext(req);
    const parsed = BulkForm.safeParse(req.body ?? {});
    const back = safeStaffPath(typeof req.body?.back === "string" ? req.body.back : undefined);
    if (!parsed.success) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("inbox:bulk.invalid") }]);
    const form = parsed.data;
    if (form.reference.length === 0) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("inbox:bulk.noneSelected") }]);
    if (form.reference.length > MAX_BULK) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("inbox:bulk.tooMany", { max: MAX_BULK }) }]);
    if (form.do === "assign") return bulkAssign(res, ctx, form, back);
    if (!form.status) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("actions.errors.status") }]);
    if (NOTIFIED.has(form.status) && form.confirm !== "yes") return confirmPage(req, res, ctx, form.reference, form.status, back);
    return bulkStatus(res, ctx, form.reference, form.status, back);
  });

  async function bulkAssign(res: Response, ctx: StaffContext, form: BulkForm, back: string) {
    if (form.assignee === undefined) return redirectWithFlash(res, deps, back, [{ kind: "error", text: ctx.t("actions.errors.assignee") }]);
    const assigneeId = form.assignee === "me" ? ctx.actor.id : form.assignee === "none" ? null : form.assignee;
    const now = deps.clock();
    const results = await deps.db.$transaction(async (tx) => {
      const out: Array<{ reference: number; result: ActionResult }> = [];
      for (const ref of form.reference) out.push({ reference: ref, result: await assignTicket(tx, ctx.actor, ref, assigneeId, now) });
      return out;
    });
    const refused = new Map<Refusal, number[]>();
    let done = 0;
    for (const { reference: ref, result } of results) {
      if (result.ok) done++;
      else push(refused, result.error === "invalid" ? "assignee" : "not_found", ref);
    }
    logRefusals(ctx, "assign", refused);
    return redirectWithFlash(res, deps, back, outcome(ctx, done > 0 ? ctx.t("inbox:bulk.assigned", { count: done }) : null, refused));
  }

  async function bulkStatus(res: Response, ctx: StaffContext, references: number[], status: TicketStatus, back: string) {
    const results = await deps.db.$transaction(async (tx) => {
      const out: Array<{ reference: number; result: Awaited<ReturnType<typeof changeStatus>> }> = [];
      for (const ref of references) out.push({ reference: ref, result: await changeStatus(tx, outboxContext(), ctx.actor, ref, status) });
      return out;
    });
    const refused = new Map<Refusal, number[]>();
    let changed = 0;
    let told = 0;
    for (const { reference: ref, result } of results) {
      if (!result.ok) push(refused, result.error === "not_found" ? "not_found" : "invalid", ref);
      else if (result.outcome === "unchanged") push(refused, "unchanged", ref);
      else {
        changed++;
        if (result.delivery?.status === "not_sent") push(refused, "notNotified", ref);
        else if (result.delivery) told++;
      }
    }
    logRefusals(ctx, "status", refused);
    const statusName = ctx.t(`status.${status}`);
    const success = changed > 0 ? [ctx.t("inbox:bulk.statusChanged", { count: changed, status: statusName }), ...(told > 0 ? [ctx.t("inbox:bulk.residentsTold", { count: told })] : [])].join(" ") : null;
    return redirectWithFlash(res, deps, back, outcome(ctx, success, refused, statusName));
  }

  /** The one more question before resolving or closing in bulk: which tickets, how many residents will be written to. */
  async function confirmPage(req: Request, res: Response, ctx: StaffContext, references: number[], status: TicketStatus, back: string) {
    const { t, locale } = ctx;
    const tickets = await deps.db.ticket.findMany({
      where: { AND: [ticketScope(ctx.actor), { reference: { in: references } }] },
      orderBy: { reference: "asc" },
      select: { reference: true, status: true, description: true, residentId: true, category: { select: { nameAr: true, nameEn: true } } },
    });
    const changing = tickets.filter((ticket) => ticket.status !== status);
    const residents = changing.filter((ticket) => ticket.residentId !== null).length;
    const statusName = t(`status.${status}`);
    const title = t("inbox:confirm.title", { count: changing.length, status: statusName });
    const body = html`<div class="page-head"><h1>${title}</h1></div>
<section class="card bulk-confirm">
  <p>${residents > 0 ? t("inbox:confirm.residentsTold", { count: residents }) : t("inbox:confirm.nobodyTold")}</p>
  ${changing.length < references.length ? html`<p class="muted">${t("inbox:confirm.skipped", { count: references.length - changing.length })}</p>` : null}
  <ul class="confirm-list">${changing.map(
    (ticket) => html`<li><bdi dir="ltr">#${ticket.reference}</bdi> <strong><bdi>${ticket.category ? localName(ticket.category, locale) : t("queue.noCategory")}</bdi></strong> <span class="muted"><bdi>${excerpt(ticket.description, 60)}</bdi></span></li>`,
  )}</ul>
  <form method="post" action="/staff/queue/bulk" class="actions">
    ${csrfField(ctx)}
    ${references.map((r) => html`<input type="hidden" name="reference" value="${r}">`)}
    <input type="hidden" name="do" value="status"><input type="hidden" name="status" value="${status}"><input type="hidden" name="confirm" value="yes"><input type="hidden" name="back" value="${back}">
    <button type="submit" class="btn btn-danger" ${changing.length === 0 ? html`disabled` : null}>${t("inbox:confirm.submit", { count: changing.length, status: statusName })}</button>
    <a class="btn btn-ghost" href="${back}">${t("inbox:confirm.cancel")}</a>
  </form>
</section>`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title, section: "queue", body, pageStyles: ["queue.css"] }));
  }

  function logRefusals(ctx: StaffContext, action: string, refused: Map<Refusal, number[]>) {
    if (refused.size > 0) deps.logger.info({ staffId: ctx.actor.id, action, refused: Object.fromEntries(refused) }, "bulk action left tickets alone");
  }

  return router;
}

function push(map: Map<Refusal, number[]>, key: Refusal, reference: number) {
  const list = map.get(key) ?? [];
  list.push(reference);
  map.set(key, list);
}

/** The flash messages of a bulk action: what was done, then each reason tickets were left alone, with their references. */
function outcome(ctx: StaffContext, success: string | null, refused: Map<Refusal, number[]>, status = ""): FlashMessage[] {
  const messages: FlashMessage[] = success ? [{ kind: "success", text: success }] : [];
  for (const [reason, references] of refused) {
    const kind = reason === "unchanged" ? "info" : "error";
    messages.push({ kind, text: ctx.t(`inbox:bulk.refused.${reason}`, { count: references.length, references: listed(ctx, references), status }) });
  }
  if (messages.length === 0) messages.push({ kind: "info", text: ctx.t("inbox:bulk.nothingDone") });
  return messages;
}
