import { Router, type Request } from "express";
import { LOCALES } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import { listTickets, pausedResidents, TicketFilters, type QueueRow } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import { botPauseBadge, pausedResidentsPanel } from "./botPause.js";
import { channelBadge, flagBadges, languageBadge, selectField, sharedFilterOptions, statusBadge, textField } from "./components.js";
import { takeFlash } from "./flash.js";
import { departmentLabel, excerpt, formatAge, formatDateTime, localName } from "./format.js";
import { html, type SafeHtml } from "./html.js";
import { staffPage } from "./layout.js";
import { staffContext, type StaffContext } from "./staffContext.js";

/** The filters the queue form sends; everything else in the query string is ignored. */
const FILTER_KEYS = ["status", "category", "department", "channel", "language", "childRelated", "needsHuman", "assignee", "olderThanDays", "q", "page", "pageSize"] as const;
/** How often the open queue page asks for new rows. */
export const QUEUE_REFRESH_SECONDS = 10;

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

/**
 * Who filed it: the resident's masked phone, and the tool's name ("Open311 · FixMyStreet Bekaa")
 * when another tool filed it through Open311 — alone when it gave no phone number.
 */
function residentCell(ctx: StaffContext, row: QueueRow): SafeHtml {
  const client = row.open311Client !== null ? html`<span class="open311-client">${ctx.t("channel.open311")} · <bdi>${row.open311Client}</bdi></span>` : null;
  if (row.phoneMasked !== null) return html`<span dir="ltr">${row.phoneMasked}</span>${client && html`<br><small class="muted">${client}</small>`}`;
  return client ?? html`<span class="muted">${ctx.t("open311Ticket:queue.noResident")}</span>`;
}

function queueRow(ctx: StaffContext, look: Lookups, row: QueueRow, now: Date): SafeHtml {
  const { t, locale } = ctx;
  const href = `/staff/tickets/${row.reference}`;
  return html`<tr data-reference="${row.reference}" class="${row.needsHuman ? "row-attention" : ""}">
  <td class="ref"><a href="${href}">#${row.reference}</a></td>
  <td>${statusBadge(t, row.status)}</td>
  <td class="subject">
    <a href="${href}" class="subject-link"><strong>${row.category ? localName(row.category, locale) : t("queue.noCategory")}</strong>
    <span class="desc" dir="auto">${excerpt(row.description) || t("queue.noDescription")}</span></a>
    <span class="flags">${flagBadges(t, row)}${botPauseBadge(ctx, row.botPause)}</span>
  </td>
  <td>${departmentLabel(look.departments, row.department, locale) ?? html`<span class="muted">${t("queue.noDepartment")}</span>`}</td>
  <td class="nowrap">${channelBadge(t, row.channel, row.route)} ${languageBadge(t, row.locale)}</td>
  <td class="phone">${residentCell(ctx, row)}</td>
  <td>${row.assignee ? row.assignee.displayName : html`<span class="muted">${t("queue.unassigned")}</span>`}</td>
  <td class="age nowrap" title="${formatDateTime(row.createdAt, locale)}">${formatAge(t, row.createdAt, now)}</td>
</tr>`;
}

/** The table body, also served alone for the page's script to refresh. */
function queueBody(ctx: StaffContext, look: Lookups, rows: QueueRow[], total: number, refreshUrl: string, now: Date): SafeHtml {
  const summary = ctx.t("queue.summary", { count: total });
  return html`<tbody id="queue-rows" data-refresh-url="${refreshUrl}" data-summary="${summary}" data-refresh-seconds="${QUEUE_REFRESH_SECONDS}">
${rows.length === 0 ? html`<tr class="empty"><td colspan="8">${ctx.t("queue.empty")}</td></tr>` : rows.map((row) => queueRow(ctx, look, row, now))}
</tbody>`;
}

function filterForm(ctx: StaffContext, look: Lookups, query: Record<string, string>): SafeHtml {
  const { t, locale, actor } = ctx;
  const { any, statuses, channels, departments, yesNo } = sharedFilterOptions(t, actor, look.departments);
  return html`<form method="get" action="/staff" class="filters card" role="search">
  <div class="filter-grid">
    <label class="field field-search"><span>${t("filters.search")}</span>
      <input type="search" name="q" value="${query.q ?? ""}" placeholder="${t("filters.searchPlaceholder")}" maxlength="200"></label>
    ${selectField(t("filters.status"), "status", statuses, query.status ?? "open")}
    ${selectField(t("filters.category"), "category", [any, ...look.categories.map((c) => ({ value: c.code, label: localName(c, locale) }))], query.category)}
    ${selectField(t("filters.department"), "department", [any, ...departments.map((d) => ({ value: d.code, label: localName(d, locale) }))], query.department)}
    ${selectField(t("filters.channel"), "channel", channels, query.channel)}
    ${selectField(t("filters.language"), "language", [any, ...LOCALES.map((l) => ({ value: l, label: t(`language.${l}`) }))], query.language)}
    ${selectField(t("filters.assignee"), "assignee", [any, { value: "me", label: t("filters.assignedToMe") }, { value: "none", label: t("filters.unassigned") }, ...look.staff.map((s) => ({ value: String(s.id), label: s.displayName }))], query.assignee)}
    ${selectField(t("filters.childRelated"), "childRelated", yesNo, query.childRelated)}
    ${selectField(t("filters.needsHuman"), "needsHuman", yesNo, query.needsHuman)}
    ${textField(t("filters.olderThanDays"), "olderThanDays", query.olderThanDays, { type: "number", min: 0, max: 3650 })}
  </div>
  <div class="actions">
    <button type="submit" class="btn btn-primary">${t("filters.apply")}</button>
    <a class="btn btn-ghost" href="/staff">${t("filters.reset")}</a>
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

/**
 * The queue: `GET /staff` with filters in the query string, oldest waiting first; and
 * `GET /staff/queue/rows` with the same filters, the table body alone, which the page's script
 * fetches every ten seconds so new tickets appear without a reload.
 */
export function queuePage(deps: RouterDeps): Router {
  const router = Router();

  router.get("/", async (req, res) => {
    const ctx = staffContext(req);
    const query = filterQuery(req);
    const filters = parseFilters(query);
    const now = deps.clock();
    const [look, { rows, total }, paused] = await Promise.all([lookups(deps), listTickets(deps.db, ctx.actor, filters, now), pausedResidents(deps.db, ctx.actor)]);
    const refreshUrl = `/staff/queue/rows?${new URLSearchParams(query).toString()}`;
    const { t } = ctx;
    const body = html`<div class="page-head">
  <h1>${t("queue.title")}</h1>
  <p class="muted"><span id="queue-summary">${t("queue.summary", { count: total })}</span> · <span class="live" id="queue-live">${t("queue.live", { seconds: QUEUE_REFRESH_SECONDS })}</span></p>
</div>
${pausedResidentsPanel(ctx, paused, now)}
${filterForm(ctx, look, query)}
<div class="card table-card">
<table class="queue">
  <thead><tr>
    <th scope="col">${t("queue.col.reference")}</th>
    <th scope="col">${t("queue.col.status")}</th>
    <th scope="col">${t("queue.col.subject")}</th>
    <th scope="col">${t("queue.col.department")}</th>
    <th scope="col">${t("queue.col.channel")}</th>
    <th scope="col">${t("queue.col.phone")}</th>
    <th scope="col">${t("queue.col.assignee")}</th>
    <th scope="col">${t("queue.col.age")}</th>
  </tr></thead>
  ${queueBody(ctx, look, rows, total, refreshUrl, now)}
</table>
</div>
${pager(ctx, query, filters, total)}`;
    res.type("html").send(staffPage(ctx, req.originalUrl, { title: t("queue.title"), section: "queue", body, scripts: ["queue.js"], flash: takeFlash(req, res, deps) }));
  });

  router.get("/queue/rows", async (req, res) => {
    const ctx = staffContext(req);
    const query = filterQuery(req);
    const filters = parseFilters(query);
    const now = deps.clock();
    const [look, { rows, total }] = await Promise.all([lookups(deps), listTickets(deps.db, ctx.actor, filters, now)]);
    const refreshUrl = `/staff/queue/rows?${new URLSearchParams(query).toString()}`;
    res.type("html").send(html`<table>${queueBody(ctx, look, rows, total, refreshUrl, now)}</table>`.value);
  });

  return router;
}
