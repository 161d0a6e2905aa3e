import { Router, type Request } from "express";
import { LOCALES, TICKET_STATUSES } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import { assertNever } from "../../lib/assertNever.js";
import { pausedResidents, queueToken, queueView, TicketFilters, type MessageAuthor, type QueueCounts, type QueueRow } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import { botPauseBadge, pausedResidentsPanel } from "./botPause.js";
import { channelBadge, flagBadges, languageBadge, selectField, sharedFilterOptions, statusBadge, textField, type Option } from "./components.js";
import { takeFlash } from "./flash.js";
import { departmentLabel, excerpt, formatAge, formatDateTime, localName } from "./format.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { csrfField, staffPage } from "./layout.js";
import { staffContext, type StaffContext } from "./staffContext.js";

/** The filters the queue form sends; everything else in the query string is ignored. */
const FILTER_KEYS = ["status", "category", "department", "channel", "language", "childRelated", "needsHuman", "assignee", "olderThanDays", "q", "sort", "page", "pageSize"] as const;
/** The filters of the folding panel (search and tabs are always in view). */
const PANEL_KEYS = ["status", "category", "department", "channel", "language", "childRelated", "needsHuman", "olderThanDays", "sort"] as const;
/** How often the open queue page asks whether anything changed. */
export const QUEUE_REFRESH_SECONDS = 10;
/** The tabs over the queue: the `assignee` filter they set. */
const TABS = [
  { tab: "mine", assignee: "me" },
  { tab: "unassigned", assignee: "none" },
  { tab: "all", assignee: undefined },
] as const;

/** The filter values of a query string, empty fields dropped (an empty select means "any"). */
function filterQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = req.query[key];
    if (typeof value === "string" && value.trim() !== "") out[key] = value.trim();
  }
  return out;
}

function parseFilters(query: Record<string, string>): TicketFilters {
  const parsed = TicketFilters.safeParse(query);
  if (!parsed.success) throw new HttpError(400, `Bad filter: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return parsed.data;
}

async function lookups(deps: RouterDeps) {
  const municipalityId = deps.municipalityId;
  const [departments, categories, staff] = await Promise.all([
    deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" } }),
    deps.db.category.findMany({ where: { municipalityId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] }),
    deps.db.staff.findMany({ where: { municipalityId, active: true }, orderBy: { displayName: "asc" }, select: { id: true, displayName: true } }),
  ]);
  return { departments, categories, staff };
}
type Lookups = Awaited<ReturnType<typeof lookups>>;

/** Where a form of the page returns: this very view, page included. */
const backHref = (query: Record<string, string>) => (Object.keys(query).length > 0 ? `/staff?${new URLSearchParams(query).toString()}` : "/staff");

/** The queue's own address with these filters changed (no page: a new view starts at its first). */
const queueHref = (query: Record<string, string>, change: Record<string, string | undefined> = {}) => {
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...query, ...change })) if (value !== undefined && key !== "page") merged[key] = value;
  const search = new URLSearchParams(merged).toString();
  return search ? `/staff?${search}` : "/staff";
};

/**
 * Who filed it: the resident's masked phone, and the tool's name ("Open311 · FixMyStreet Bekaa")
 * when another tool filed it through Open311 — alone when it gave no phone number.
 */
function residentCell(ctx: StaffContext, row: QueueRow): SafeHtml {
  const client = row.open311Client !== null ? html`<span class="open311-client">${ctx.t("channel.open311")} · <bdi>${row.open311Client}</bdi></span>` : null;
  if (row.phoneMasked !== null) return html`<bdi dir="ltr" class="phone-number">${row.phoneMasked}</bdi>${client && html`<br><small class="muted">${client}</small>`}`;
  return client ?? html`<span class="muted">${ctx.t("open311Ticket:queue.noResident")}</span>`;
}

function authorLabel(ctx: StaffContext, author: MessageAuthor): HtmlValue {
  switch (author.kind) {
    case "resident":
      return ctx.t("inbox:author.resident");
    case "staff":
      return author.name === null ? ctx.t("inbox:author.staff") : html`<bdi>${author.name}</bdi>`;
    case "bot":
      return ctx.t("inbox:author.bot");
    case "notification":
      return ctx.t("inbox:author.notification");
    default:
      return assertNever(author);
  }
}

/** Since when the resident has waited, and the target badge when it is near or overdue. */
function waitingCell(ctx: StaffContext, row: QueueRow, now: Date): SafeHtml {
  const { t, locale } = ctx;
  const { target } = row;
  const badge =
    target.state !== "ok" && target.dueAt
      ? html`<span class="badge target-badge target-${target.state}" title="${t(`inbox:target.${target.kind === "first_response" ? "firstResponseDue" : "resolutionDue"}`, { when: formatDateTime(target.dueAt, locale) })}">${t(`inbox:target.${target.state}`)}</span>`
      : null;
  const waiting = row.waitingSince
    ? html`<span class="waited" title="${t("inbox:row.waitingSince", { when: formatDateTime(row.waitingSince, locale) })}">${formatAge(t, row.waitingSince, now)}</span>`
    : html`<span class="muted" title="${t("inbox:row.filed", { when: formatDateTime(row.createdAt, locale) })}">${t(target.dueAt ? "inbox:row.answered" : "inbox:row.notWaiting")}</span>`;
  return html`<span class="visually-hidden">${t("queue.col.age")}: </span>${waiting}${badge && html` ${badge}`}`;
}

function assignToMe(ctx: StaffContext, row: QueueRow, back: string): HtmlValue {
  if (row.assignee?.id === ctx.actor.id) return null;
  return html`<form method="post" action="/staff/queue/assign-to-me" class="assign-me">
  ${csrfField(ctx)}<input type="hidden" name="reference" value="${row.reference}"><input type="hidden" name="back" value="${back}">
  <button type="submit" class="btn btn-secondary btn-small">${ctx.t("inbox:assignToMe")}<span class="visually-hidden"> #${row.reference}</span></button>
</form>`;
}

function queueRow(ctx: StaffContext, look: Lookups, row: QueueRow, back: string, now: Date): SafeHtml {
  const { t, locale } = ctx;
  const href = `/staff/tickets/${row.reference}`;
  const classes = [row.needsHuman ? "row-attention" : "", row.unread ? "unread" : "", row.target.state !== "ok" ? `target-${row.target.state}` : ""].filter(Boolean).join(" ");
  const last = row.lastMessage;
  const department = departmentLabel(look.departments, row.department, locale);
  return html`<tr data-reference="${row.reference}" class="${classes}" data-unread="${row.unread ? "1" : "0"}">
  <td class="select"><label class="select-box"><input type="checkbox" name="reference" value="${row.reference}" form="bulk"><span class="visually-hidden">${t("inbox:bulk.selectOne", { reference: row.reference })}</span></label></td>
  <td class="ref"><a href="${href}"><bdi dir="ltr">#${row.reference}</bdi></a></td>
  <td class="status">${statusBadge(t, row.status)}</td>
  <td class="subject">
    <a href="${href}" class="subject-link">${row.unread ? html`<span class="unread-mark" title="${t("inbox:row.unread")}"><span class="visually-hidden">${t("inbox:row.unread")}</span></span>` : null}<strong><bdi>${row.category ? localName(row.category, locale) : t("queue.noCategory")}</bdi></strong>${row.reopened ? html` <span class="badge flag flag-reopened">${t("inbox:row.reopened")}</span>` : null}
    <span class="desc"><bdi>${excerpt(row.description) || t("queue.noDescription")}</bdi></span></a>
    ${last && html`<span class="last-message"><span class="author">${authorLabel(ctx, last.author)}</span>: <bdi>${excerpt(last.body, 70)}</bdi></span>`}
    <span class="flags">${flagBadges(t, row)}${botPauseBadge(ctx, row.botPause)}</span>
  </td>
  <td class="department">${department !== null ? html`<bdi>${department}</bdi>` : html`<span class="muted">${t("queue.noDepartment")}</span>`}</td>
  <td class="channel">${channelBadge(t, row.channel, row.route)} ${languageBadge(t, row.locale)}</td>
  <td class="phone">${residentCell(ctx, row)}</td>
  <td class="assignee">${row.assignee ? html`<bdi>${row.assignee.displayName}</bdi>` : html`<span class="muted">${t("queue.unassigned")}</span>`}${assignToMe(ctx, row, back)}</td>
  <td class="age waiting">${waitingCell(ctx, row, now)}</td>
</tr>`;
}

interface BodyInput {
  rows: QueueRow[];
  total: number;
  counts: QueueCounts;
  token: string;
  query: Record<string, string>;
}

/** The document's title: the unread count first, as chat tools show it in the browser tab. */
const pageTitle = (ctx: StaffContext, unread: number) => (unread > 0 ? `(${unread}) ${ctx.t("queue.title")}` : ctx.t("queue.title"));

/**
 * The table body, also served alone for the page's script to refresh; its data attributes carry
 * what else the script updates (summary, tab counts, unread count, the change token).
 */
function queueBody(ctx: StaffContext, look: Lookups, input: BodyInput, now: Date): SafeHtml {
  const { rows, total, counts, token, query } = input;
  const back = backHref(query);
  return html`<tbody id="queue-rows" data-refresh-url="/staff/queue/rows?${new URLSearchParams(query).toString()}" data-summary="${ctx.t("queue.summary", { count: total })}" data-refresh-seconds="${QUEUE_REFRESH_SECONDS}" data-token="${token}" data-unread="${counts.unread}" data-count-mine="${counts.mine}" data-count-unassigned="${counts.unassigned}" data-count-all="${counts.all}" data-title="${pageTitle(ctx, counts.unread)} · ${ctx.t("app.name")}">
${rows.length === 0 ? html`<tr class="empty"><td colspan="9">${ctx.t("queue.empty")}</td></tr>` : rows.map((row) => queueRow(ctx, look, row, back, now))}
</tbody>`;
}

/** Mine, Unassigned, All: the `assignee` filter with the others kept, each with its count. */
function tabs(ctx: StaffContext, query: Record<string, string>, counts: QueueCounts): SafeHtml {
  return html`<nav class="queue-tabs" aria-label="${ctx.t("inbox:tabs.label")}">${TABS.map(({ tab, assignee }) => {
    const current = query.assignee === assignee;
    return html`<a href="${queueHref(query, { assignee })}" class="queue-tab${current ? " active" : ""}" ${current ? html`aria-current="page"` : null}>${ctx.t(`inbox:tabs.${tab}`)} <span class="count" id="queue-count-${tab}">${counts[tab]}</span></a>`;
  })}</nav>`;
}

function filterForm(ctx: StaffContext, look: Lookups, query: Record<string, string>): SafeHtml {
  const { t, locale, actor } = ctx;
  const { any, statuses, channels, departments, yesNo } = sharedFilterOptions(t, actor, look.departments);
  const active = PANEL_KEYS.filter((key) => query[key] !== undefined && !(key === "status" && query[key] === "open") && !(key === "sort" && query[key] === "target")).length;
  const assignees: Option[] = [any, { value: "me", label: t("filters.assignedToMe") }, { value: "none", label: t("filters.unassigned") }, ...look.staff.map((s) => ({ value: String(s.id), label: s.displayName }))];
  return html`<form method="get" action="/staff" class="filters card" role="search">
  <div class="search-row">
    <label class="field field-search"><span>${t("filters.search")}</span>
      <input type="search" name="q" value="${query.q ?? ""}" placeholder="${t("inbox:search.placeholder")}" maxlength="200" dir="auto"></label>
    <button type="submit" class="btn btn-primary">${t("inbox:search.submit")}</button>
  </div>
  <details class="filter-panel">
    <summary>${active > 0 ? t("inbox:filters.active", { count: active }) : t("inbox:filters.title")}</summary>
    <div class="filter-grid">
      ${selectField(t("filters.status"), "status", statuses, query.status ?? "open")}
      ${selectField(t("filters.category"), "category", [any, ...look.categories.map((c) => ({ value: c.code, label: localName(c, locale) }))], query.category)}
      ${selectField(t("filters.department"), "department", [any, ...departments.map((d) => ({ value: d.code, label: localName(d, locale) }))], query.department)}
      ${selectField(t("filters.channel"), "channel", channels, query.channel)}
      ${selectField(t("filters.language"), "language", [any, ...LOCALES.map((l) => ({ value: l, label: t(`language.${l}`) }))], query.language)}
      ${selectField(t("filters.assignee"), "assignee", assignees, query.assignee)}
      ${selectField(t("filters.childRelated"), "childRelated", yesNo, query.childRelated)}
      ${selectField(t("filters.needsHuman"), "needsHuman", yesNo, query.needsHuman)}
      ${textField(t("filters.olderThanDays"), "olderThanDays", query.olderThanDays, { type: "number", min: 0, max: 3650 })}
      ${selectField(t("inbox:sort.label"), "sort", [{ value: "target", label: t("inbox:sort.target") }, { value: "created", label: t("inbox:sort.created") }], query.sort ?? "target")}
    </div>
    <div class="actions">
      <button type="submit" class="btn btn-primary">${t("filters.apply")}</button>
      <a class="btn btn-ghost" href="/staff">${t("filters.reset")}</a>
    </div>
  </details>
</form>`;
}

/** Acting on the ticked rows: assign them, or change their status (resolving or closing asks first). */
function bulkForm(ctx: StaffContext, look: Lookups, back: string): SafeHtml {
  const { t } = ctx;
  const assignees: Option[] = [{ value: "me", label: t("filters.assignedToMe") }, { value: "none", label: t("filters.unassigned") }, ...look.staff.filter((s) => s.id !== ctx.actor.id).map((s) => ({ value: String(s.id), label: s.displayName }))];
  const statuses: Option[] = TICKET_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }));
  return html`<form id="bulk" method="post" action="/staff/queue/bulk" class="bulk-bar card" aria-label="${t("inbox:bulk.label")}">
  ${csrfField(ctx)}<input type="hidden" name="back" value="${back}">
  <p class="bulk-hint muted" id="bulk-selected" data-none="${t("inbox:bulk.hint")}" data-selected="${t("inbox:bulk.selected")}" aria-live="polite">${t("inbox:bulk.hint")}</p>
  <div class="bulk-actions">
    <label class="field"><span>${t("inbox:bulk.assignTo")}</span><select name="assignee">${assignees.map((o) => html`<option value="${o.value}">${o.label}</option>`)}</select></label>
    <button type="submit" name="do" value="assign" class="btn btn-secondary">${t("inbox:bulk.assign")}</button>
    <label class="field"><span>${t("inbox:bulk.statusTo")}</span><select name="status">${statuses.map((o) => html`<option value="${o.value}" ${o.value === "in_progress" ? html`selected` : null}>${o.label}</option>`)}</select></label>
    <button type="submit" name="do" value="status" class="btn btn-secondary">${t("inbox:bulk.changeStatus")}</button>
  </div>
</form>`;
}

function pager(ctx: StaffContext, query: Record<string, string>, filters: TicketFilters, total: number): SafeHtml | null {
  const pages = Math.max(1, Math.ceil(total / filters.pageSize));
  if (pages <= 1) return null;
  const href = (page: number) => `/staff?${new URLSearchParams({ ...query, page: String(page) }).toString()}`;
  const { t } = ctx;
  return html`<nav class="pager" aria-label="${t("queue.pages")}">
  ${filters.page > 1 ? html`<a class="btn btn-ghost btn-small" href="${href(filters.page - 1)}" rel="prev">${t("queue.previous")}</a>` : null}
  <span>${t("queue.pageOf", { page: filters.page, pages })}</span>
  ${filters.page < pages ? html`<a class="btn btn-ghost btn-small" href="${href(filters.page + 1)}" rel="next">${t("queue.next")}</a>` : null}
</nav>`;
}

/** The change token as an HTTP entity tag. */
const etag = (token: string) => `"${token}"`;

/**
 * The queue: `GET /staff` with filters in the query string, overdue first, then the longest waiting;
 * tabs (mine, unassigned, all) with their counts; a search; the bulk actions (queueActions.ts). And
 * `GET /staff/queue/rows` with the same filters, the table body alone, which the page's script asks
 * for every ten seconds with the change token it has (If-None-Match): 304, nothing rendered, while
 * nothing in the staff member's scope changed.
 */
export function queuePage(deps: RouterDeps): Router {
  const router = Router();

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const query = filterQuery(req);
    const filters = parseFilters(query);
    const now = deps.clock();
    // The token first: a change while the page is read makes the next refresh render it.
    const token = await queueToken(deps.db, ctx.actor, filters, now);
    const [look, view, paused] = await Promise.all([lookups(deps), queueView(deps.db, ctx.actor, filters, now), pausedResidents(deps.db, ctx.actor)]);
    const { t } = ctx;
    const back = backHref(query);
    const body = html`<div class="page-head queue-head">
  <h1>${t("queue.title")}</h1>
  <p class="muted"><span id="queue-summary">${t("queue.summary", { count: view.total })}</span> · <span class="live" id="queue-live">${t("queue.live", { seconds: QUEUE_REFRESH_SECONDS })}</span>
  <button type="button" id="queue-sound" class="btn btn-ghost btn-small sound-toggle" aria-pressed="false" hidden data-on="${t("inbox:sound.on")}" data-off="${t("inbox:sound.off")}">${t("inbox:sound.off")}</button></p>
</div>
${pausedResidentsPanel(ctx, paused, now)}
${tabs(ctx, query, view.counts)}
${filterForm(ctx, look, query)}
${bulkForm(ctx, look, back)}
<div class="card table-card">
<table class="queue">
  <thead><tr>
    <th scope="col" class="select"><span class="visually-hidden">${t("inbox:bulk.selectColumn")}</span><input type="checkbox" id="queue-select-all" hidden aria-label="${t("inbox:bulk.selectAll")}"></th>
    <th scope="col">${t("queue.col.reference")}</th>
    <th scope="col">${t("queue.col.status")}</th>
    <th scope="col">${t("queue.col.subject")}</th>
    <th scope="col">${t("queue.col.department")}</th>
    <th scope="col">${t("queue.col.channel")}</th>
    <th scope="col">${t("queue.col.phone")}</th>
    <th scope="col">${t("queue.col.assignee")}</th>
    <th scope="col">${t("queue.col.age")}</th>
  </tr></thead>
  ${queueBody(ctx, look, { ...view, token, query }, now)}
</table>
</div>
${pager(ctx, query, filters, view.total)}`;
    res
      .type("html")
      .send(staffPage(ctx, req.originalUrl, { title: pageTitle(ctx, view.counts.unread), section: "queue", body, scripts: ["queue.js"], pageStyles: ["queue.css"], flash: takeFlash(req, res, deps) }));
  });

  router.get("/queue/rows", async (req, res) => {
    const ctx = staffContext(req);
    const query = filterQuery(req);
    const filters = parseFilters(query);
    const now = deps.clock();
    const token = await queueToken(deps.db, ctx.actor, filters, now);
    res.set("ETag", etag(token));
    if (req.get("If-None-Match") === etag(token)) {
      res.status(304).end();
      return;
    }
    const [look, view] = await Promise.all([lookups(deps), queueView(deps.db, ctx.actor, filters, now)]);
    res.type("html").send(html`<table>${queueBody(ctx, look, { ...view, token, query }, now)}</table>`.value);
  });

  return router;
}
