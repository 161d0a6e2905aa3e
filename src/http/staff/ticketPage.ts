import { Router } from "express";
import { z } from "zod";
import { mediaKindOf } from "../../channels/whatsappWeb/mediaStore.js";
import { localMediaKey } from "../../channels/whatsappWeb/mediaStore.js";
import { TICKET_STATUSES, type Media } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import { ALL_CONTROLS, BIDI_CONTROLS } from "../../lib/invisibleText.js";
import { smsCost } from "../../lib/smsSegments.js";
import { open311Exclusions } from "../../services/open311/privacy.js";
import { publicState } from "../../services/open311/requests.js";
import { DEFAULT_DELIVERY_DEADLINE_MS, isFailed, OUTBOX_FAILURES } from "../../services/outbox.js";
import { AreaGeometrySchema, DEFAULT_CHILD_ZONE_METRES } from "../../services/places/placeTypes.js";
import { fillCannedReply } from "../../services/cannedReplies.js";
import { PRESENCE_HEARTBEAT_MS, presenceOnTicket, touchPresence, type Presence } from "../../services/presence.js";
import { MAX_PUBLIC_NOTE } from "../../services/staffActions.js";
import { markTicketRead } from "../../services/ticketReads.js";
import { ticketDetail, type BothNames, type Open311Details, type TicketDetail } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import { bdi, channelBadge, channelLabel, deliveryBadge, flagBadges, languageBadge, routeLabel, selectField, selectOptions, statusBadge, technicalDetails, type Option } from "./components.js";
import { takeFlash } from "./flash.js";
import { departmentLabel, formatDateTime, isolate, localName, mapLink } from "./format.js";
import { explainProviderError, providerErrorDetail } from "./providerErrors.js";
import { escapeHtml, html, trustedHtml, type HtmlValue, type SafeHtml } from "./html.js";
import { csrfField, staffPage } from "./layout.js";
import { MAP_SCRIPTS, MAP_STYLES, mapFrame, NO_TILES } from "./map/mapFrame.js";
import { botPauseBanner } from "./botPause.js";
import { paymentCard, paymentEventDescription, phoneAccountsCard, ticketAccountInfo, type TicketAccountInfo } from "./paymentCard.js";
import { staffContext, type StaffContext } from "./staffContext.js";

/** A ticket reference from the URL; anything else is a page that does not exist. */
export function parseReference(raw: unknown): number {
  if (typeof raw !== "string" || !/^\d{1,9}$/.test(raw)) throw new HttpError(404, "No such ticket");
  return Number(raw);
}

/** Photos we show inline (and proxy); SVG could carry script, so it is not one of them. */
export const isInlineImage = (contentType: string) => /^image\/(jpeg|png|gif|webp|heic|heif|bmp|avif)$/i.test(contentType.split(";")[0]!.trim());

async function lookups(deps: RouterDeps, detail: TicketDetail) {
  const { ticket } = detail;
  const municipalityId = deps.municipalityId;
  const staffIds = new Set<number>();
  for (const event of detail.ticket.events) {
    const data = eventData(event.data);
    for (const key of ["from", "to"]) if (typeof data[key] === "number") staffIds.add(data[key]);
  }
  // The ticket's landmark, area and child zone, and those its location changes name in the history.
  const placeIds = new Set([ticket.placeId, ticket.childZonePlaceId].filter((id): id is number => id !== null));
  const areaIds = new Set(ticket.areaId !== null ? [ticket.areaId] : []);
  for (const event of detail.ticket.events) {
    if (event.kind !== "location_set") continue;
    const { from, to } = locationEvent(event.data);
    for (const id of [from?.placeId, to?.childZonePlaceId]) if (typeof id === "number") placeIds.add(id);
    for (const id of [from?.areaId, to?.areaId]) if (typeof id === "number") areaIds.add(id);
  }
  const [departments, categories, canned, assignees, named, places, areas] = await Promise.all([
    deps.db.department.findMany({ where: { municipalityId }, orderBy: { code: "asc" } }),
    deps.db.category.findMany({ where: { municipalityId }, orderBy: [{ sortOrder: "asc" }, { id: "asc" }] }),
    deps.db.cannedReply.findMany({
      where: { municipalityId, OR: [{ categoryId: null }, ...(ticket.categoryId !== null ? [{ categoryId: ticket.categoryId }] : [])] },
      orderBy: [{ locale: "asc" }, { sortOrder: "asc" }, { id: "asc" }],
    }),
    deps.db.staff.findMany({
      where: {
        municipalityId,
        active: true,
        OR: [{ role: "admin" }, ...(ticket.department !== null ? [{ departments: { some: { departmentCode: ticket.department } } }] : [])],
      },
      orderBy: { displayName: "asc" },
      select: { id: true, displayName: true },
    }),
    deps.db.staff.findMany({ where: { id: { in: [...staffIds] } }, select: { id: true, displayName: true } }),
    placeIds.size > 0
      ? deps.db.place.findMany({
          where: { id: { in: [...placeIds] }, municipalityId },
          select: { id: true, nameAr: true, nameEn: true, kind: true, childRelated: true, latitude: true, longitude: true },
        })
      : [],
    areaIds.size > 0 ? deps.db.area.findMany({ where: { id: { in: [...areaIds] }, municipalityId }, select: { id: true, nameAr: true, nameEn: true, geometry: true } }) : [],
  ]);
  const areaNames = new Map(areas.map((a) => [a.id, a]));
  return {
    departments,
    categories,
    canned,
    assignees,
    staffNames: new Map(named.map((s) => [s.id, s.displayName])),
    places: new Map(places.map((p) => [p.id, p])),
    areas: areaNames,
    area: ticket.areaId !== null ? (areaNames.get(ticket.areaId) ?? null) : null,
  };
}
type Lookups = Awaited<ReturnType<typeof lookups>>;

const EventData = z.record(z.string(), z.unknown());

/** One side of a `location_set` event (src/services/places/setTicketLocation.ts), read leniently. */
const StoredPlacement = z
  .object({
    latitude: z.number().nullable().catch(null),
    longitude: z.number().nullable().catch(null),
    approximate: z.boolean().catch(false),
    placeId: z.number().nullable().catch(null),
    areaId: z.number().nullable().catch(null),
    childZonePlaceId: z.number().nullable().catch(null),
    childZoneMetres: z.number().nullable().catch(null),
    childRelated: z.boolean().catch(false),
  })
  .nullable()
  .catch(null);
const LocationEvent = z.object({ from: StoredPlacement, to: StoredPlacement });
function locationEvent(json: string): z.infer<typeof LocationEvent> {
  return LocationEvent.catch({ from: null, to: null }).parse(eventData(json));
}
function eventData(json: string): Record<string, unknown> {
  try {
    return EventData.catch({}).parse(JSON.parse(json));
  } catch {
    return {};
  }
}

function mediaUrl(reference: number, owner: number | "ticket", index: number) {
  return `/staff/tickets/${reference}/media/${owner}/${index}`;
}

function mediaList(ctx: StaffContext, reference: number, owner: number | "ticket", media: Media[]): HtmlValue {
  if (media.length === 0) return null;
  return html`<div class="media-list">${media.map((m, i) =>
    isInlineImage(m.contentType)
      ? html`<a href="${mediaUrl(reference, owner, i)}" target="_blank" rel="noopener" class="photo"><img src="${mediaUrl(reference, owner, i)}" alt="${ctx.t("ticket.photo", { n: i + 1 })}" loading="lazy"></a>`
      : storedFile(ctx, mediaUrl(reference, owner, i), m, i) ?? html`<span class="attachment">${ctx.t("ticket.attachment", { type: m.contentType })}</span>`,
  )}</div>`;
}

const FILE_LABELS = { audio: "ticket.fileAudio", video: "ticket.fileVideo", document: "ticket.fileDocument" } as const;

/** A voice note, video or document the server keeps (WhatsApp Web): a link to play or download it. */
function storedFile(ctx: StaffContext, url: string, media: Media, i: number): HtmlValue | null {
  const kind = localMediaKey(media.url) ? mediaKindOf(media.contentType) : null;
  if (!kind || kind === "image") return null;
  return html`<a href="${url}" target="_blank" rel="noopener" class="attachment">${ctx.t(FILE_LABELS[kind], { n: i + 1 })}</a>`;
}

function location(ctx: StaffContext, point: { latitude: number | null; longitude: number | null; label: string | null }): HtmlValue {
  if (point.latitude === null || point.longitude === null) return null;
  return html`<div class="location"><span dir="ltr" class="coords">${point.latitude.toFixed(5)}, ${point.longitude.toFixed(5)}</span>
  <a href="${mapLink(point.latitude, point.longitude)}" target="_blank" rel="noopener noreferrer">${ctx.t("ticket.openMap")}</a>
  ${point.label && html`<span class="muted" dir="auto">${point.label}</span>`}</div>`;
}

/**
 * A translated sentence with a name in it ("within 80 m of {{place}}"): the text escaped, the
 * name isolated in <bdi> so an English name in an Arabic sentence (or the reverse) keeps its order.
 */
function withName(t: StaffContext["t"], key: string, name: string, params: Record<string, string | number> = {}): SafeHtml {
  const MARK = "\u0001";
  const parts = t(key, { ...params, place: MARK }).split(MARK);
  return trustedHtml(parts.map(escapeHtml).join(html`<bdi>${name}</bdi>`.toString()));
}

/**
 * A translated sentence with markup for some of its parameters (a name in <bdi>, coordinates kept
 * left-to-right): the rest of the text escaped.
 */
function withMarkup(t: StaffContext["t"], key: string, markup: Record<string, SafeHtml>, params: Record<string, string | number> = {}): SafeHtml {
  const names = Object.keys(markup);
  const text = t(key, { ...params, ...Object.fromEntries(names.map((name, i) => [name, `\u0001${i}\u0002`])) });
  return trustedHtml(
    text
      .split(/\u0001(\d+)\u0002/)
      .map((part, i) => (i % 2 === 1 ? (markup[names[Number(part)]!]?.toString() ?? "") : escapeHtml(part)))
      .join(""),
  );
}

/**
 * Runs of text that must read left to right whatever surrounds them: web addresses, e-mail
 * addresses, and numbers written in groups or with a "+" (phone numbers: "08 540 123", "+961 71
 * 123 456", dates, amounts). In an Arabic sentence the bidi algorithm would otherwise lay a
 * number's groups out right to left ("123 540 08") and move a leading "+" to the end.
 */
const LTR_RUN = /(?:https?:\/\/|www\.)[^\s<>"']+|[\p{L}\p{Nd}._%+-]+@[\p{L}\p{Nd}-]+(?:\.[\p{L}\p{Nd}-]+)+|\+?\p{Nd}+(?:[ \u00a0./-]\p{Nd}+)*/gu;
// Sentence punctuation after an address belongs to the sentence, not the address.
const TRAILING_PUNCTUATION = /[.,;:!?)\]\u060c\u061b\u061f]+$/u;

/**
 * Text someone typed (a message, a note, an address), escaped, with its phone numbers, addresses
 * and links each isolated left to right (`<bdi dir="ltr">`); the rest keeps the direction of its
 * container (which should be `dir="auto"`).
 */
export function bidiText(text: string): SafeHtml {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(LTR_RUN)) {
    let run = match[0];
    const start = match.index;
    if (!/^\p{Nd}+$/u.test(run)) {
      if (!/^\+?\p{Nd}/u.test(run)) run = run.replace(TRAILING_PUNCTUATION, "");
      out += escapeHtml(text.slice(last, start)) + html`<bdi dir="ltr">${run}</bdi>`.toString();
      last = start + run.length;
    }
  }
  return trustedHtml(out + escapeHtml(text.slice(last)));
}

const coordinates = (latitude: number, longitude: number) => html`<bdi dir="ltr" class="coords">${latitude.toFixed(5)}, ${longitude.toFixed(5)}</bdi>`;

/** Where the request is, as the geocoding found it: the place named, the area, the child zone. */
function placementRows(ctx: StaffContext, look: Lookups, ticket: TicketDetail["ticket"], row: (label: string, value: HtmlValue) => SafeHtml): SafeHtml {
  const { t, locale } = ctx;
  const place = ticket.placeId !== null ? look.places.get(ticket.placeId) : undefined;
  const zonePlace = ticket.childZonePlaceId !== null ? look.places.get(ticket.childZonePlaceId) : undefined;
  const located = ticket.latitude !== null && ticket.longitude !== null;
  return html`${located && ticket.locationApproximate ? html`<div class="dl-row dl-note"><dt></dt><dd class="muted approximate">${t("geo:ticket.approximate")}</dd></div>` : null}
    ${place ? row(t("geo:ticket.place"), html`<bdi>${localName(place, locale)}</bdi>`) : null}
    ${look.area ? row(t("geo:ticket.area"), html`<bdi>${localName(look.area, locale)}</bdi>`) : null}
    ${zonePlace && ticket.childZoneMetres !== null
      ? row(
          t("geo:ticket.childZone"),
          html`<span class="child-zone" title="${t("geo:ticket.zoneHint")}">${
            ticket.childZoneMetres === 0
              ? withName(t, "geo:ticket.at", localName(zonePlace, locale))
              : withName(t, "geo:ticket.within", localName(zonePlace, locale), { metres: ticket.childZoneMetres })
          }</span>`,
        )
      : null}`;
}

type DetailMessage = TicketDetail["messages"][number];

function messageAuthor(ctx: StaffContext, m: DetailMessage): HtmlValue {
  const { t } = ctx;
  if (m.direction === "inbound") return t("conversation.resident");
  switch (m.kind) {
    case "staff":
      return m.staff ? withMarkup(t, "conversation.staffNamed", { name: bdi(m.staff.displayName) }) : t("conversation.staff");
    case "notification":
      return t("conversation.notification");
    case "template":
      return t("conversation.template");
    default:
      return t("conversation.bot");
  }
}

/**
 * Why a message did not go out, in the reader's language (the worker's own reasons first, then the
 * provider's failure as providerErrors.ts explains it), and the provider's own words (`detail`:
 * technical, usually English) for the page to show behind a "Details" toggle.
 */
function messageProblem(t: StaffContext["t"], m: DetailMessage, deadlineHours: number): { reason: string | null; detail: string | null } {
  const gaveUp = Object.entries(OUTBOX_FAILURES).find(([, code]) => code === m.errorCode)?.[0];
  if (gaveUp) {
    const why = t(`outbox.reason.${gaveUp}`, { count: deadlineHours, route: routeLabel(t, m.route) });
    // The worker keeps the last try's "<code>: <message>" as the message's error.
    const cause = m.errorMessage ? explainProviderError(t, { detail: m.errorMessage }) : null;
    return { reason: cause ? `${why} — ${cause}` : why, detail: m.errorMessage };
  }
  // Our own reasons (held for the window, not sent to an opted-out resident) are no provider's failure.
  if (m.errorCode === "opted_out" || m.errorCode === "window_closed") return { reason: t(`delivery.reason.${m.errorCode}`), detail: null };
  const failure = { code: m.errorCode, detail: m.errorMessage };
  return { reason: explainProviderError(t, failure), detail: providerErrorDetail(failure) };
}

/** "Try again" and, for WhatsApp, "Send by SMS instead", under a message that did not go out. */
function resendForms(ctx: StaffContext, reference: number, m: DetailMessage): SafeHtml {
  const { t } = ctx;
  const action = (what: string) => `/staff/tickets/${reference}/messages/${m.id}/${what}`;
  return html`<div class="msg-actions">
    <form method="post" action="${action("retry")}" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-secondary btn-small">${t("outbox.retry")}</button></form>
    ${m.channel === "whatsapp" ? html`<form method="post" action="${action("send-by-sms")}" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-secondary btn-small">${t("outbox.sendBySms")}</button></form>` : null}
  </div>`;
}

function conversationItem(ctx: StaffContext, deps: RouterDeps, detail: TicketDetail, m: DetailMessage): SafeHtml {
  const { t, locale } = ctx;
  const reference = detail.ticket.reference;
  const outbound = m.direction === "outbound";
  // Bot replies went out inside the webhook's answer; only messages sent later have a delivery state.
  const tracked = outbound && m.status !== "replied";
  const deadlineHours = Math.round((deps.outbox.deliveryDeadlineMs ?? DEFAULT_DELIVERY_DEADLINE_MS) / 3600_000);
  const problem = tracked ? messageProblem(t, m, deadlineHours) : { reason: null, detail: null };
  const resendable = tracked && m.ticketId === detail.ticket.id && detail.ticket.resident !== null && !detail.ticket.resident.optedOut && isFailed(m);
  const retry = tracked && m.outbox && m.outbox.attempts > 0 && (m.status === "queued" || m.outbox.lastError) ? m.outbox : null;
  const lastError = retry?.lastError ?? null;
  const lastCause = lastError ? explainProviderError(t, { detail: lastError }) : null;
  const details = [problem.detail, lastError !== problem.detail ? lastError : null].filter((d): d is string => d !== null && d !== "").join("\n");
  return html`<li class="msg ${outbound ? "msg-out" : "msg-in"} msg-${m.kind}" id="m${m.id}">
  <div class="msg-meta"><strong>${messageAuthor(ctx, m)}</strong> <time datetime="${m.createdAt.toISOString()}">${formatDateTime(m.createdAt, locale)}</time> ${channelBadge(t, m.channel, m.route)}</div>
  ${m.body && html`<div class="msg-body" dir="auto">${bidiText(m.body)}</div>`}
  ${mediaList(ctx, reference, m.id, m.media)}
  ${location(ctx, { latitude: m.latitude, longitude: m.longitude, label: m.locationLabel })}
  ${tracked && html`<div class="msg-delivery">${deliveryBadge(t, m.status)}${problem.reason && html` <span class="reason">${problem.reason}</span>`}${
    retry ? html` <span class="muted">${t("delivery.attempts", { count: retry.attempts })}${lastCause ? ` — ${t("ticketPage:lastAttempt")} ${lastCause}` : ""}</span>` : null
  }${technicalDetails(t, details)}</div>`}
  ${resendable ? resendForms(ctx, reference, m) : null}
</li>`;
}

function eventDescription(ctx: StaffContext, look: Lookups, kind: string, data: Record<string, unknown>): SafeHtml {
  const { t, locale } = ctx;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const statusName = (v: unknown) => (typeof v === "string" && (TICKET_STATUSES as readonly string[]).includes(v) ? t(`status.${v}`) : t("history.none"));
  const staffName = (v: unknown) => (typeof v === "number" ? (look.staffNames.get(v) ?? `#${v}`) : t("history.nobody"));
  const categoryName = (v: unknown) => {
    const category = typeof v === "number" ? look.categories.find((c) => c.id === v) : undefined;
    return category ? localName(category, locale) : t("history.none");
  };
  const departmentName = (v: unknown) => departmentLabel(look.departments, str(v), locale) ?? t("history.none");
  switch (kind) {
    case "created":
      // Events written before routes existed have no `route`: the channel alone.
      return html`${t("history.created", { channel: channelLabel(t, createdChannel(str(data.channel)), str(data.route)) })}${data.needsHuman === true ? html` · ${t("flags.needsHuman")}` : null}`;
    case "reply": {
      const delivery = str(data.delivery);
      return html`${t("history.reply")}${delivery && html` ${deliveryBadge(t, delivery)}`}${typeof data.messageId === "number" ? html` <a href="#m${data.messageId}">${t("history.seeMessage")}</a>` : null}`;
    }
    case "note":
      return html`<span class="note-label">${t("history.note")}</span><div class="note-text" dir="auto">${bidiText(str(data.text) ?? "")}</div>`;
    case "assigned":
      return data.to === null || data.to === undefined
        ? withMarkup(t, "history.unassigned", { from: bdi(staffName(data.from)) })
        : withMarkup(t, "history.assigned", { to: bdi(staffName(data.to)) });
    case "status_changed": {
      const note = str(data.publicNote);
      return html`${t("history.statusChanged", { from: statusName(data.from), to: statusName(data.to) })}${note && publicNoteText(t("open311Staff:history.publicNote"), note)}`;
    }
    case "public_note":
      return publicNoteText(t("open311Staff:history.publicNoteOnly"), str(data.text) ?? "");
    case "open311_hidden":
      return html`${t("open311Staff:history.hidden")}`;
    case "open311_shown":
      return html`${t("open311Staff:history.shown")}`;
    case "category_changed":
      return html`${t("history.categoryChanged", { from: categoryName(data.fromCategoryId), to: categoryName(data.toCategoryId) })}${
        data.fromDepartment !== data.toDepartment ? html`<br>${t("history.departmentChanged", { from: departmentName(data.fromDepartment), to: departmentName(data.toDepartment) })}` : null
      }`;
    case "reopened":
      return html`${t("history.reopened", { from: statusName(data.from) })}`;
    case "delivery_retried":
      return html`${t("outbox.history.retried")}${typeof data.messageId === "number" ? html` <a href="#m${data.messageId}">${t("history.seeMessage")}</a>` : null}`;
    case "sent_by_sms": {
      const delivery = str(data.delivery);
      return html`${t("outbox.history.sentBySms")}${delivery && html` ${deliveryBadge(t, delivery)}`}${typeof data.messageId === "number" ? html` <a href="#m${data.messageId}">${t("history.seeMessage")}</a>` : null}`;
    }
    case "payment_confirmed":
    case "payment_rejected":
      return paymentEventDescription(ctx, kind, data);
    case "location_set":
      return locationSetDescription(ctx, look, data);
    default:
      return html`${t("history.other", { kind })}`;
  }
}

/** The channel a `created` event names: SMS unless it says WhatsApp or Open311 (older events said nothing else). */
const createdChannel = (channel: string | null) => (channel === "whatsapp" || channel === "open311" ? channel : "sms");

/** A public note under its label (the history, the Open311 card): what Open311 shows with the status. */
function publicNoteText(label: string, text: string): SafeHtml {
  return html`<div class="public-note"><span class="note-label">${label}</span><div class="note-text" dir="auto">${bidiText(text)}</div></div>`;
}

/** "Set the location to …, before: …", the area and the child zone it is now in. */
function locationSetDescription(ctx: StaffContext, look: Lookups, data: Record<string, unknown>): SafeHtml {
  const { t, locale } = ctx;
  const { from, to } = LocationEvent.catch({ from: null, to: null }).parse(data);
  if (!to || to.latitude === null || to.longitude === null) return html`${t("history.other", { kind: "location_set" })}`;
  const name = (named: { nameAr: string; nameEn: string } | undefined) => (named ? html`<bdi>${localName(named, locale)}</bdi>` : null);
  const landmark = from?.placeId != null ? name(look.places.get(from.placeId)) : null;
  const before =
    !from || from.latitude === null || from.longitude === null
      ? html`${t("geo:history.beforeNone")}`
      : !from.approximate
        ? withMarkup(t, "geo:history.before", { from: coordinates(from.latitude, from.longitude) })
        : landmark
          ? withMarkup(t, "geo:history.beforeLandmark", { from: coordinates(from.latitude, from.longitude), place: landmark })
          : withMarkup(t, "geo:history.beforeApproximate", { from: coordinates(from.latitude, from.longitude) });
  const area = to.areaId !== null ? name(look.areas.get(to.areaId)) : null;
  const zonePlace = to.childZonePlaceId !== null ? look.places.get(to.childZonePlaceId) : undefined;
  const zone =
    zonePlace && to.childZoneMetres !== null
      ? to.childZoneMetres === 0
        ? withName(t, "geo:ticket.at", localName(zonePlace, locale))
        : withName(t, "geo:ticket.within", localName(zonePlace, locale), { metres: to.childZoneMetres })
      : null;
  return html`${withMarkup(t, "geo:history.locationSet", { to: coordinates(to.latitude, to.longitude) })} <span class="muted">(${before})</span>${
    area ? html`<br>${withMarkup(t, "geo:history.area", { area })}` : null
  }${zone ? html`<br>${zone}${to.childRelated && from?.childRelated !== true ? html` · ${t("geo:history.nowChildRelated")}` : null}` : null}`;
}

function history(ctx: StaffContext, look: Lookups, detail: TicketDetail): SafeHtml {
  const { t, locale } = ctx;
  // Another tool filed it: the client is who did, not "the system".
  const client = detail.open311 ? t("open311Ticket:history.client", { name: detail.open311.client.name }) : null;
  return html`<ol class="history">${detail.ticket.events.map((e) => {
    const who =
      e.actorType === "staff"
        ? (e.actor?.displayName ?? t("history.formerStaff"))
        : e.kind === "created" && client
          ? client
          : e.actorType === "resident"
            ? t("history.resident")
            : t("history.system");
    return html`<li class="event event-${e.kind}">
      <div class="event-meta"><strong>${who}</strong> <time datetime="${e.createdAt.toISOString()}">${formatDateTime(e.createdAt, locale)}</time></div>
      <div class="event-body">${eventDescription(ctx, look, e.kind, eventData(e.data))}</div>
    </li>`;
  })}</ol>`;
}

type Resident = NonNullable<TicketDetail["ticket"]["resident"]>;

/** What will happen to a reply typed now: WhatsApp's 24-hour window, SMS cost, opt-out. */
function deliveryNotice(ctx: StaffContext, deps: RouterDeps, detail: TicketDetail, resident: Resident): SafeHtml {
  const { t, locale } = ctx;
  const { ticket, window } = detail;
  if (resident.optedOut) return html`<div class="notice notice-error" role="note">${t("reply.optedOut")}</div>`;
  if (ticket.channel !== "whatsapp" || !window) {
    // The outbox sends it the way the resident last wrote on SMS (their identity's route).
    const sms = resident.identities.find((i) => i.channel === "sms");
    return html`<div class="notice notice-info" role="note">${t("reply.smsNotice")}${sms && ` ${t("reply.smsRoute", { route: routeLabel(t, sms.route) })}`}</div>`;
  }
  // The town's own phone (WhatsApp Web) writes any time, like a person: no window, no template.
  if (window.route === "whatsapp-web" && (!deps.outbox.whatsappRoutes || deps.outbox.whatsappRoutes.includes("whatsapp-web"))) {
    return html`<div class="notice notice-ok" role="note">${t("reply.ownPhone")}</div>`;
  }
  if (window.open && window.lastInboundAt) {
    const until = new Date(window.lastInboundAt.getTime() + 24 * 3600_000);
    return html`<div class="notice notice-ok" role="note">${t("reply.windowOpen", { until: formatDateTime(until, locale) })}</div>`;
  }
  const last = window.lastInboundAt ? t("reply.lastWrote", { when: formatDateTime(window.lastInboundAt, locale) }) : t("reply.neverWrote");
  const what = deps.outbox.whatsappTemplateSid ? t("reply.windowClosedTemplate") : t("reply.windowClosedNoTemplate");
  return html`<div class="notice notice-warn" role="note"><strong>${t("reply.windowClosed")}</strong> ${last} ${what}</div>`;
}

/** A canned reply as offered on one ticket: its placeholders filled in with the ticket's values, in the reply's language. */
interface OfferedReply {
  id: number;
  title: string;
  locale: "ar" | "en";
  text: string;
}

function offeredReplies(deps: RouterDeps, look: Lookups, ticket: TicketDetail["ticket"]): OfferedReply[] {
  return look.canned.map((c) => {
    const locale = c.locale === "en" ? "en" : "ar";
    const category = ticket.category ? localName(ticket.category, locale) : deps.i18n.t("ticketPage:canned.noCategory", { lng: locale });
    return { id: c.id, title: c.title, locale, text: fillCannedReply(c.body, { reference: ticket.reference, category }) };
  });
}

/** The id of the reply box; ticket.js finds it, the canned replies' links come back to it. */
const REPLY_BOX = "reply-body";

/**
 * The canned replies, each a button that puts its text in the reply box: with scripts, at the
 * cursor; without, it asks the page again with `?canned=<id>` and the box comes back filled. The
 * buttons' data (`data-canned`, `data-title`, `lang`) is also what the "/" search in the box reads.
 */
function cannedPicker(ctx: StaffContext, reference: number, offered: OfferedReply[]): HtmlValue {
  const { t } = ctx;
  if (offered.length === 0) return null;
  return html`<details class="canned-picker">
    <summary>${t("reply.canned")} <span class="muted">${t("ticketPage:canned.summary", { count: offered.length })}</span></summary>
    <form method="get" action="/staff/tickets/${reference}#${REPLY_BOX}" class="canned" data-target="${REPLY_BOX}">
      ${offered.map(
        (c) =>
          html`<button type="submit" name="canned" value="${c.id}" class="chip" data-canned="${c.text}" data-title="${c.title}" lang="${c.locale}" dir="auto" title="${c.text}"><bdi>${c.title}</bdi> <small>${t(`language.${c.locale}`)}</small></button>`,
      )}
    </form>
    <p class="hint canned-hint">${t("ticketPage:canned.slashHint")}</p>
  </details>`;
}

function replyCard(ctx: StaffContext, deps: RouterDeps, look: Lookups, detail: TicketDetail, chosen: number | null): SafeHtml {
  const { t } = ctx;
  const { ticket } = detail;
  if (!ticket.resident) return noResidentCard(ctx);
  const sms = ticket.channel !== "whatsapp";
  const offered = offeredReplies(deps, look, ticket);
  // Without scripts, a canned reply's button comes back here with the box filled in.
  const prefilled = offered.find((c) => c.id === chosen)?.text ?? "";
  const initial = smsCost(prefilled);
  return html`<section class="card card-reply" aria-labelledby="reply-title">
  <h2 id="reply-title">${t("reply.title")}</h2>
  ${deliveryNotice(ctx, deps, detail, ticket.resident)}
  ${cannedPicker(ctx, ticket.reference, offered)}
  <form method="post" action="/staff/tickets/${ticket.reference}/reply" class="stack reply-form">
    ${csrfField(ctx)}
    <div class="reply-box">
      <label class="field"><span class="visually-hidden">${t("reply.label")}</span>
        <textarea id="${REPLY_BOX}" name="body" rows="5" maxlength="1600" dir="auto" required placeholder="${t("reply.placeholder")}" ${sms ? html`data-sms-cost-url="/staff/sms-cost"` : null}${
          offered.length > 0 ? html` aria-autocomplete="list" aria-controls="canned-listbox" data-canned-none="${t("ticketPage:canned.none")}" data-canned-found="${t("ticketPage:canned.found", { n: "%n" })}"` : null
        }>${prefilled}</textarea></label>
      ${offered.length > 0 ? html`<ul id="canned-listbox" class="canned-listbox" role="listbox" aria-label="${t("ticketPage:canned.listLabel")}" hidden></ul><p class="visually-hidden" id="canned-status" role="status" aria-live="polite"></p>` : null}
    </div>
    <div class="form-foot">
      ${sms ? html`<p class="sms-cost" id="sms-cost" aria-live="polite">${t("reply.smsCost", { count: initial.segments, encoding: initial.encoding, characters: initial.characters })}</p>` : html`<span></span>`}
      <button type="submit" class="btn btn-primary">${t("reply.send")}</button>
    </div>
  </form>
</section>`;
}

/** In place of the reply box on a ticket without a resident: why nobody can be answered, and what to do instead. */
function noResidentCard(ctx: StaffContext): SafeHtml {
  const { t } = ctx;
  return html`<section class="card card-no-resident" aria-labelledby="reply-title">
  <h2 id="reply-title">${t("reply.title")}</h2>
  <div class="notice notice-info no-resident" role="note">${t("open311Ticket:noResident.reply")}</div>
</section>`;
}

function noteCard(ctx: StaffContext, reference: number): SafeHtml {
  const { t } = ctx;
  return html`<section class="card card-note" aria-labelledby="note-title">
  <h2 id="note-title">${t("note.title")}</h2>
  <form method="post" action="/staff/tickets/${reference}/note" class="stack">
    ${csrfField(ctx)}
    <label class="field"><span class="muted">${t("note.hint")}</span><textarea name="note" rows="3" maxlength="5000" dir="auto" required></textarea></label>
    <div class="form-foot"><span></span><button type="submit" class="btn btn-secondary">${t("note.submit")}</button></div>
  </form>
</section>`;
}

/**
 * The status and the assignee, first on the page (above the conversation, where a phone shows
 * them without scrolling). Resolving or closing asks for a confirmation first (ticketActions.ts).
 */
function controlsCard(ctx: StaffContext, look: Lookups, detail: TicketDetail): SafeHtml {
  const { t, actor } = ctx;
  const { ticket } = detail;
  const statuses: Option[] = TICKET_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }));
  const assignees: Option[] = [
    { value: "none", label: t("actions.nobody") },
    { value: "me", label: t("actions.me", { name: actor.displayName }) },
    ...look.assignees.filter((s) => s.id !== actor.id).map((s) => ({ value: String(s.id), label: s.displayName })),
  ];
  const currentAssignee = ticket.assigneeId === null ? "none" : ticket.assigneeId === actor.id ? "me" : String(ticket.assigneeId);
  return html`<section class="card ticket-controls" aria-labelledby="actions-title">
  <h2 id="actions-title" class="visually-hidden">${t("ticketPage:controls.title")}</h2>
  <form method="post" action="/staff/tickets/${ticket.reference}/status" class="control control-status">
    ${csrfField(ctx)}
    <div class="control-row">${selectField(t("actions.status"), "status", statuses, ticket.status)}<button type="submit" class="btn btn-secondary">${t("actions.changeStatus")}</button></div>
    <p class="hint">${ticket.resident ? t("actions.statusHint") : t("open311Ticket:noResident.statusHint")}</p>
    <details class="public-note-field"><summary>${t("ticketPage:controls.publicNote")}</summary>
    <label class="field"><span>${t("open311Staff:publicNote.label")}</span><textarea name="publicNote" rows="2" maxlength="${MAX_PUBLIC_NOTE}" dir="auto"></textarea>
      <small class="hint">${t("open311Staff:publicNote.hint")}</small></label>
    </details>
  </form>
  <form method="post" action="/staff/tickets/${ticket.reference}/assign" class="control control-assign">
    ${csrfField(ctx)}
    <div class="control-row">${selectField(t("actions.assignee"), "assignee", assignees, currentAssignee)}<button type="submit" class="btn btn-secondary">${t("actions.assign")}</button></div>
  </form>
</section>`;
}

/** Moving the ticket to another category or department. */
function categoryCard(ctx: StaffContext, look: Lookups, detail: TicketDetail): SafeHtml {
  const { t, locale } = ctx;
  const { ticket } = detail;
  const categories: Option[] = [
    ...(ticket.category ? [] : [{ value: "", label: t("actions.noCategory") }]),
    ...look.categories.filter((c) => c.active || c.id === ticket.categoryId).map((c) => ({ value: c.code, label: localName(c, locale) })),
  ];
  const departments: Option[] = [{ value: "", label: t("actions.followCategory") }, ...look.departments.map((d) => ({ value: d.code, label: localName(d, locale) }))];
  return html`<section class="card" aria-labelledby="category-title">
  <h2 id="category-title">${t("actions.category")} · ${t("actions.department")}</h2>
  <form method="post" action="/staff/tickets/${ticket.reference}/category" class="stack action">
    ${csrfField(ctx)}
    ${selectField(t("actions.category"), "category", categories, ticket.category?.code ?? "")}
    <label class="field"><span>${t("actions.department")}</span><select name="department">${selectOptions(departments, "")}</select>
      <small class="hint">${t("actions.departmentHint", { current: departmentLabel(look.departments, ticket.department, locale) ?? t("history.none") })}</small></label>
    <button type="submit" class="btn btn-secondary">${t("actions.recategorize")}</button>
  </form>
</section>`;
}

/**
 * Whether Open311 serves this request, and every reason it does not (open311/privacy.ts); the
 * public note it shows now; and the form that hides the request, or stops hiding it.
 */
function open311Card(ctx: StaffContext, detail: TicketDetail, accounts: TicketAccountInfo): SafeHtml {
  const { t } = ctx;
  const { ticket } = detail;
  const reasons = open311Exclusions({ open311Hidden: ticket.open311Hidden, category: ticket.category, department: ticket.department, paymentReport: accounts.report !== null });
  const { note } = publicState(ticket.events);
  return html`<section class="card card-open311" aria-labelledby="open311-title">
  <h2 id="open311-title">${t("open311Staff:visibility.title")}</h2>
  ${
    reasons.length === 0
      ? html`<p class="open311-public">${t("open311Staff:visibility.public")}</p>`
      : html`<p class="open311-private">${t("open311Staff:visibility.notPublic")}</p><ul class="open311-reasons">${reasons.map((r) => html`<li>${t(`open311Staff:visibility.reasons.${r}`)}</li>`)}</ul>`
  }
  ${note && publicNoteText(t("open311Staff:visibility.currentNote"), note)}
  <form method="post" action="/staff/tickets/${ticket.reference}/open311-visibility" class="stack action">
    ${csrfField(ctx)}
    <input type="hidden" name="hidden" value="${ticket.open311Hidden ? "false" : "true"}">
    ${ticket.open311Hidden ? null : html`<p class="hint">${t("open311Staff:visibility.hideHint")}</p>`}
    <button type="submit" class="btn btn-secondary">${t(ticket.open311Hidden ? "open311Staff:visibility.show" : "open311Staff:visibility.hide")}</button>
  </form>
</section>`;
}

const row = (label: string, value: HtmlValue) => html`<div class="dl-row"><dt>${label}</dt><dd>${value}</dd></div>`;

/** Who filed the request and is told about it; for a ticket without a resident, a clear "nobody". */
function residentCard(ctx: StaffContext, ticket: TicketDetail["ticket"]): SafeHtml {
  const { t } = ctx;
  const { resident } = ticket;
  return html`<section class="card" aria-labelledby="resident-title">
  <h2 id="resident-title">${t("ticket.resident")}</h2>
  ${resident ? null : html`<p class="muted no-resident">${t("open311Ticket:noResident.resident")}</p>`}
  <dl class="dl">
    ${resident && row(t("ticket.phone"), html`<a href="tel:${resident.phone}" dir="ltr" class="phone-full">${resident.phone}</a>`)}
    ${resident && row(t("ticket.profileName"), resident.profileName ? html`<bdi>${resident.profileName}</bdi>` : html`<span class="muted">${t("ticket.unknown")}</span>`)}
    ${row(t("ticket.channel"), channelBadge(t, ticket.channel, ticket.route))}
    ${row(t("ticket.language"), languageBadge(t, resident?.locale ?? ticket.locale))}
    ${resident?.optedOut && row(t("ticket.optedOut"), html`<span class="badge flag flag-stop">${t("ticket.optedOutYes")}</span>`)}
  </dl>
</section>`;
}

/** What a link that is not one shows as "\uFFFD": controls and direction marks. */
const MASKED_IN_TEXT = new RegExp(`[${ALL_CONTROLS}${BIDI_CONTROLS}]`, "gu");

/**
 * A link someone else's tool sent: a plain link when it is http(s), never fetched or embedded;
 * anything else as text. The link shows the address as the browser reads it (`href`: control and
 * direction characters percent-encoded), so its text cannot be made to read as another address;
 * in text that is not a link, those characters show as "\uFFFD".
 */
function externalLink(url: string): SafeHtml {
  let href: string | null = null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") href = parsed.href;
  } catch {
    href = null;
  }
  return href
    ? html`<a href="${href}" rel="noopener noreferrer nofollow" target="_blank" dir="ltr" class="external-link">${href}</a>`
    : html`<span dir="ltr" class="external-link not-a-link">${url.replace(MASKED_IN_TEXT, "\uFFFD")}</span>`;
}

/**
 * "Filed through Open311": which client, when; the person it names (personal data, for staff who
 * may see the ticket); its answers to the category's questions in the page's language (a code the
 * category does not know shown as sent); and its media as plain links.
 */
function open311SubmissionCard(ctx: StaffContext, open311: Open311Details): SafeHtml {
  const { t, locale } = ctx;
  const named = (names: BothNames | null, raw: string) => (names ? html`<bdi>${names[locale]}</bdi>` : html`<bdi dir="auto" class="raw">${raw}</bdi>`);
  const fullName = [open311.firstName, open311.lastName].filter((part): part is string => part !== null && part.trim() !== "").join(" ");
  const person: SafeHtml[] = [];
  if (fullName) person.push(row(t("open311Ticket:submission.name"), html`<span dir="auto">${fullName}</span>`));
  if (open311.email) person.push(row(t("open311Ticket:submission.email"), html`<span dir="ltr" class="email">${open311.email}</span>`));
  if (open311.deviceId) person.push(row(t("open311Ticket:submission.deviceId"), html`<span dir="ltr" class="mono">${open311.deviceId}</span>`));
  if (open311.accountId) person.push(row(t("open311Ticket:submission.accountId"), html`<span dir="ltr" class="mono">${open311.accountId}</span>`));
  return html`<section class="card card-open311-submission" aria-labelledby="open311-submission-title">
  <h2 id="open311-submission-title">${t("open311Ticket:submission.title")}</h2>
  <dl class="dl">
    ${row(
      t("open311Ticket:submission.client"),
      html`<bdi class="open311-client">${open311.client.name}</bdi>${open311.client.revokedAt ? html` <span class="badge flag flag-stop" title="${formatDateTime(open311.client.revokedAt, locale)}">${t("open311Ticket:submission.revoked")}</span>` : null}`,
    )}
    ${row(t("open311Ticket:submission.when"), html`<time datetime="${open311.submittedAt.toISOString()}">${formatDateTime(open311.submittedAt, locale)}</time>`)}
    ${person}
  </dl>
  ${person.length === 0 ? html`<p class="muted">${t("open311Ticket:submission.noPerson")}</p>` : html`<p class="hint">${t("open311Ticket:submission.personalData")}</p>`}
  <h3>${t("open311Ticket:submission.answers")}</h3>
  ${
    open311.answers.length === 0
      ? html`<p class="muted">${t("open311Ticket:submission.noAnswers")}</p>`
      : html`<dl class="dl open311-answers">${open311.answers.map(
          (a) => html`<div class="dl-row" data-code="${a.code}"><dt>${a.question ? a.question[locale] : html`<code dir="ltr">${a.code}</code>`}</dt><dd dir="auto">${a.values.map(
            (v, i) => html`${i > 0 ? t("open311Ticket:submission.valueSeparator") : null}${named(v.name, v.key)}`,
          )}</dd></div>`,
        )}</dl>`
  }
  <h3>${t("open311Ticket:submission.media")}</h3>
  ${
    open311.mediaUrls.length === 0
      ? html`<p class="muted">${t("open311Ticket:submission.noMedia")}</p>`
      : html`<p class="hint">${t("open311Ticket:submission.mediaHint")}</p><ul class="plain-list open311-media">${open311.mediaUrls.map((url) => html`<li>${externalLink(url)}</li>`)}</ul>`
  }
</section>`;
}

function detailsCard(ctx: StaffContext, look: Lookups, detail: TicketDetail, accounts: TicketAccountInfo): SafeHtml {
  const { t, locale } = ctx;
  const { ticket } = detail;
  return html`${residentCard(ctx, ticket)}
<section class="card" aria-labelledby="request-title">
  <h2 id="request-title">${t("ticket.request")}</h2>
  <dl class="dl">
    ${row(t("ticket.category"), ticket.category ? localName(ticket.category, locale) : html`<span class="muted">${t("queue.noCategory")}</span>`)}
    ${row(t("ticket.department"), departmentLabel(look.departments, ticket.department, locale) ?? html`<span class="muted">${t("queue.noDepartment")}</span>`)}
    ${row(t("ticket.assignee"), ticket.assignee ? bdi(ticket.assignee.displayName) : html`<span class="muted">${t("queue.unassigned")}</span>`)}
    ${row(t("ticket.created"), formatDateTime(ticket.createdAt, locale))}
    ${row(t("ticket.updated"), formatDateTime(ticket.updatedAt, locale))}
    ${row(t("ticket.location"), location(ctx, { latitude: ticket.latitude, longitude: ticket.longitude, label: ticket.locationLabel }) ?? html`<span class="muted">${t("ticket.noLocation")}</span>`)}
    ${placementRows(ctx, look, ticket, row)}
    ${row(t("ticket.address"), ticket.addressText ? html`<span dir="auto">${bidiText(ticket.addressText)}</span>` : html`<span class="muted">${t("ticket.noAddress")}</span>`)}
  </dl>
  <h3>${t("ticket.description")}</h3>
  <p class="description" dir="auto">${ticket.description ? bidiText(ticket.description) : t("queue.noDescription")}</p>
  ${accounts.report ? null : mediaList(ctx, ticket.reference, "ticket", detail.media)}
</section>`;
}

/** The id of the ticket page's small map, and of the form its clicks fill in (ticketMap.js). */
const MAP_ID = "ticket-map";
const LOCATION_FORM_ID = "ticket-location-form";

/**
 * What the small map draws, as JSON for data attributes (rendered here, escaped by `html`, read
 * by ticketMap.js as text): the request's point, the place its landmark was matched to, the child
 * zone's place and circle, and the area's outline. Names are in the reader's language.
 */
function mapData(ctx: StaffContext, deps: RouterDeps, look: Lookups, ticket: TicketDetail["ticket"]) {
  const { t, locale } = ctx;
  const located = ticket.latitude !== null && ticket.longitude !== null;
  const place = ticket.placeId !== null ? look.places.get(ticket.placeId) : undefined;
  const zonePlace = ticket.childZonePlaceId !== null ? look.places.get(ticket.childZonePlaceId) : undefined;
  const zoneMetres = deps.map?.childZoneMetres ?? DEFAULT_CHILD_ZONE_METRES;
  const placeJson = (p: NonNullable<typeof place>) => ({ lat: p.latitude, lng: p.longitude, name: localName(p, locale), kind: p.kind, childRelated: p.childRelated });
  let geometry: unknown = null;
  try {
    const parsed = look.area ? AreaGeometrySchema.safeParse(JSON.parse(look.area.geometry)) : null;
    geometry = parsed?.success ? parsed.data : null;
  } catch {
    // an outline that cannot be read is not drawn; the area's name is still in the text above
  }
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  return {
    point: json(
      located
        ? { lat: ticket.latitude, lng: ticket.longitude, status: ticket.status, childRelated: ticket.childRelated, approximate: ticket.locationApproximate, label: t("geo:map.request", { reference: ticket.reference }) }
        : null,
    ),
    place: json(place ? placeJson(place) : null),
    zone: json(located && zonePlace && ticket.childZoneMetres !== null ? { ...placeJson(zonePlace), radius: zoneMetres, label: t("geo:map.zone", { metres: zoneMetres, place: localName(zonePlace, locale) }) } : null),
    area: json(look.area && geometry ? { name: localName(look.area, locale), geometry } : null),
    labels: json({ newPoint: t("geo:map.newPoint") }),
    form: LOCATION_FORM_ID,
  };
}

/**
 * The request on a small map, and the form that sets its point by hand (works without scripts:
 * two inputs; with them, a click on the map fills the inputs). Without a point the map shows the
 * town and the form is open.
 */
function locationCard(ctx: StaffContext, deps: RouterDeps, look: Lookups, ticket: TicketDetail["ticket"]): SafeHtml {
  const { t } = ctx;
  const located = ticket.latitude !== null && ticket.longitude !== null;
  const value = (x: number | null) => (x === null ? "" : x.toFixed(6));
  return html`<section class="card ticket-location" aria-labelledby="location-title">
  <h2 id="location-title">${t("geo:map.title")}</h2>
  ${mapFrame(ctx, deps.map ?? NO_TILES, { id: MAP_ID, className: "map-small", label: t("geo:map.label", { reference: ticket.reference }), data: mapData(ctx, deps, look, ticket) })}
  ${located ? null : html`<p class="muted">${t("geo:map.noPoint")}</p>`}
  <details class="set-point"${located ? null : trustedHtml(" open")}>
    <summary>${located ? t("geo:setPoint.correct") : t("geo:setPoint.title")}</summary>
    <form method="post" action="/staff/tickets/${ticket.reference}/location" class="stack" id="${LOCATION_FORM_ID}">
      ${csrfField(ctx)}
      <p class="hint">${t("geo:setPoint.hint")}</p>
      <label class="field"><span>${t("geo:setPoint.latitude")}</span><input type="text" name="latitude" inputmode="decimal" dir="ltr" autocomplete="off" maxlength="40" required value="${value(ticket.latitude)}"></label>
      <label class="field"><span>${t("geo:setPoint.longitude")}</span><input type="text" name="longitude" inputmode="decimal" dir="ltr" autocomplete="off" maxlength="40" value="${value(ticket.longitude)}"></label>
      <p class="hint">${t("geo:setPoint.exact")}</p>
      <div class="form-foot"><span></span><button type="submit" class="btn btn-secondary">${t("geo:setPoint.submit")}</button></div>
    </form>
  </details>
</section>`;
}

/** What a presence line says: someone reading the ticket, or writing to the resident. */
const presenceKey = (p: Presence) => (p.state === "replying" ? "ticketPage:presence.replying" : "ticketPage:presence.viewing");

/**
 * Who else has the ticket open, as ticket.js shows it (`POST /staff/tickets/:reference/presence`
 * answers this): one line per person, each name isolated (FSI…PDI, as plain text), and whether
 * someone is writing a reply.
 */
export function presenceJson(t: StaffContext["t"], others: Presence[]): { lines: string[]; replying: boolean; hint: string | null } {
  const replying = others.some((p) => p.state === "replying");
  return { lines: others.map((p) => t(presenceKey(p), { name: isolate(p.name) })), replying, hint: replying ? t("ticketPage:presence.hint") : null };
}

/**
 * The banner naming the other staff members who have this ticket open ("Rania is writing a reply
 * to the resident"), so two people do not answer the same resident. ticket.js reports this page's
 * own presence every PRESENCE_HEARTBEAT_MS and redraws the banner from the answer.
 */
function presenceBanner(ctx: StaffContext, reference: number, others: Presence[]): SafeHtml {
  const { t } = ctx;
  const replying = others.some((p) => p.state === "replying");
  return html`<div id="presence" class="presence${replying ? " presence-replying" : ""}" role="status" aria-live="polite" data-presence-url="/staff/tickets/${reference}/presence" data-heartbeat-ms="${PRESENCE_HEARTBEAT_MS}"${others.length === 0 ? trustedHtml(" hidden") : null}>${others.map(
    (p) => html`<p class="presence-line presence-${p.state}">${withMarkup(t, presenceKey(p), { name: bdi(p.name) })}</p>`,
  )}${replying ? html`<p class="presence-hint">${t("ticketPage:presence.hint")}</p>` : null}</div>`;
}

/** `?canned=<id>`: a canned reply chosen without scripts, to put in the reply box. */
const chosenCanned = (raw: unknown) => (typeof raw === "string" && /^\d{1,9}$/.test(raw) ? Number(raw) : null);

/** The account information of a ticket without a resident: no payment report, no phone to look up. */
const NO_ACCOUNTS: TicketAccountInfo = { report: null, confirmedBy: null, phone: null };

/** `GET /staff/tickets/:reference`: everything about one ticket, and the forms to work it. */
export function ticketPage(deps: RouterDeps): Router {
  const router = Router();
  router.get("/tickets/:reference", async (req, res) => {
    const ctx = staffContext(req);
    const { t, locale } = ctx;
    const reference = parseReference(req.params.reference);
    // One instant for reading and for the read mark: a message arriving meanwhile stays unread.
    const now = deps.clock();
    const detail = await ticketDetail(deps.db, ctx.actor, reference, now);
    if (!detail) throw new HttpError(404, "No such ticket");
    const { ticket } = detail;
    // Opening the ticket reads it (its unread mark goes until the resident writes again), and shows
    // colleagues this page is open.
    await Promise.all([markTicketRead(deps.db, ctx.actor.id, ticket.id, now), touchPresence(deps.db, ctx.actor, ticket.id, "viewing", now)]);
    const [look, accounts, others] = await Promise.all([
      lookups(deps, detail),
      // Payments and accounts are a resident's: a ticket without one has neither.
      ticket.residentId !== null ? ticketAccountInfo(deps.db, ctx.actor, { id: ticket.id, residentId: ticket.residentId, municipalityId: ticket.municipalityId }) : NO_ACCOUNTS,
      presenceOnTicket(deps.db, ctx.actor, ticket, now),
    ]);
    const title = t("ticket.title", { reference: ticket.reference });
    const body = html`<div class="page-head ticket-head">
  <p class="crumbs"><a href="/staff">${t("ticket.backToQueue")}</a></p>
  <h1>${title} <span class="subtitle">${ticket.category ? localName(ticket.category, locale) : t("queue.noCategory")}</span></h1>
  <div class="head-badges">${statusBadge(t, ticket.status)} ${channelBadge(t, ticket.channel, ticket.route)} ${languageBadge(t, ticket.locale)} ${flagBadges(t, ticket)}</div>
</div>
${presenceBanner(ctx, ticket.reference, others)}
${controlsCard(ctx, look, detail)}
<div class="ticket-grid">
  <div class="ticket-main">
    ${ticket.resident && botPauseBanner(ctx, ticket.resident, req.originalUrl, detail.residentVisible)}
    ${detail.open311 && open311SubmissionCard(ctx, detail.open311)}
    ${paymentCard(ctx, ticket.reference, accounts, mediaList(ctx, ticket.reference, "ticket", detail.media))}
    ${
      ticket.resident &&
      html`<section class="card" aria-labelledby="conversation-title">
      <h2 id="conversation-title">${t("conversation.title")}</h2>
      ${detail.messages.length === 0 ? html`<p class="muted">${t("conversation.empty")}</p>` : html`<ol class="conversation">${detail.messages.map((m) => conversationItem(ctx, deps, detail, m))}</ol>`}
    </section>`
    }
    ${replyCard(ctx, deps, look, detail, chosenCanned(req.query.canned))}
    ${noteCard(ctx, ticket.reference)}
  </div>
  <aside class="ticket-side">
    ${detailsCard(ctx, look, detail, accounts)}
    ${accounts.report ? null : locationCard(ctx, deps, look, ticket)}
    ${phoneAccountsCard(ctx, accounts)}
    ${categoryCard(ctx, look, detail)}
    ${open311Card(ctx, detail, accounts)}
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">${t("history.title")}</h2>
      ${history(ctx, look, detail)}
    </section>
  </aside>
</div>`;
    res.type("html").send(
      staffPage(ctx, req.originalUrl, {
        title,
        section: "queue",
        body,
        scripts: ["ticket.js", ...MAP_SCRIPTS, "ticketMap.js"],
        styles: MAP_STYLES,
        pageStyles: ["ticket.css"],
        flash: takeFlash(req, res, deps),
      }),
    );
  });
  return router;
}
