import { z } from "zod";
import { ROUTES } from "../../channels/routes.js";
import { CHANNELS, LOCALES, TICKET_STATUSES } from "../../conversation/types.js";
import { TICKET_CHANNELS, TICKET_ROUTES, type Open311Details, type TicketDetail as Detail } from "../../services/ticketQueries.js";
import type { HistoryEvent, Open311Submission, TicketDetail } from "./apiSchemas.js";
import { knownValue } from "./knownValue.js";

type Json<T extends z.ZodType> = z.input<T>;

/**
 * One ticket as /api/v1 shows it: the resident with their full phone (null when it has none), the
 * conversation with delivery states, the history with its data parsed, WhatsApp's window, and what
 * an Open311 client sent with it (as the ticket page shows it). `categoryCodes` turns the category
 * ids stored in history into the codes the API speaks.
 */
export function serializeTicket(detail: Detail, categoryCodes: ReadonlyMap<number, string>): Json<typeof TicketDetail> {
  const { ticket } = detail;
  const { resident } = ticket;
  return {
    reference: ticket.reference,
    status: knownValue(TICKET_STATUSES, ticket.status, "ticket status"),
    needsHuman: ticket.needsHuman,
    childRelated: ticket.childRelated,
    channel: knownValue(TICKET_CHANNELS, ticket.channel, "ticket channel"),
    route: knownValue(TICKET_ROUTES, ticket.route, "ticket route"),
    locale: knownValue(LOCALES, ticket.locale, "ticket locale"),
    department: ticket.department,
    category: ticket.category ? { code: ticket.category.code, nameAr: ticket.category.nameAr, nameEn: ticket.category.nameEn } : null,
    description: ticket.description,
    assignee: ticket.assignee,
    resident: resident && {
      phone: resident.phone,
      locale: resident.locale === null ? null : knownValue(LOCALES, resident.locale, "resident locale"),
      optedOut: resident.optedOut,
      profileName: resident.profileName,
    },
    open311: detail.open311 && serializeOpen311(detail.open311),
    location:
      ticket.latitude !== null && ticket.longitude !== null
        ? { latitude: ticket.latitude, longitude: ticket.longitude, label: ticket.locationLabel, mapUrl: mapUrl(ticket.latitude, ticket.longitude) }
        : null,
    address: ticket.addressText,
    media: detail.media,
    messages: detail.messages.map((m) => ({
      id: m.id,
      direction: knownValue(["inbound", "outbound"], m.direction, "message direction"),
      channel: knownValue(CHANNELS, m.channel, "message channel"),
      route: knownValue(ROUTES, m.route, "message route"),
      kind: m.kind,
      body: m.body,
      media: m.media,
      location: m.latitude !== null && m.longitude !== null ? { latitude: m.latitude, longitude: m.longitude, label: m.locationLabel } : null,
      status: m.status,
      errorCode: m.errorCode,
      errorMessage: m.errorMessage,
      author: m.staff,
      createdAt: m.createdAt.toISOString(),
    })),
    history: ticket.events.map((e): Json<typeof HistoryEvent> => ({
      kind: e.kind,
      actorType: knownValue(["resident", "staff", "system"], e.actorType, "event actor type"),
      actor: e.actor,
      data: eventData(e.kind, e.data, categoryCodes),
      createdAt: e.createdAt.toISOString(),
    })),
    whatsappWindow: detail.window ? { open: detail.window.open, lastInboundAt: detail.window.lastInboundAt?.toISOString() ?? null } : null,
    createdAt: ticket.createdAt.toISOString(),
    updatedAt: ticket.updatedAt.toISOString(),
  };
}

/** What an Open311 client sent, field by field (so what is added to the service later stays internal). */
function serializeOpen311(o: Open311Details): Json<typeof Open311Submission> {
  return {
    client: { name: o.client.name, revoked: o.client.revokedAt !== null },
    submittedAt: o.submittedAt.toISOString(),
    person: { firstName: o.firstName, lastName: o.lastName, email: o.email, deviceId: o.deviceId, accountId: o.accountId },
    mediaUrls: o.mediaUrls,
    attributes: o.answers.map((a) => ({
      code: a.code,
      question: a.question && { ar: a.question.ar, en: a.question.en },
      values: a.values.map((v) => ({ key: v.key, name: v.name && { ar: v.name.ar, en: v.name.en } })),
    })),
  };
}

const mapUrl = (lat: number, lng: number) => `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=18/${lat}/${lng}`;

const EventData = z.record(z.string(), z.unknown()).catch({});
const CategoryChange = z.looseObject({ fromCategoryId: z.number().nullable(), toCategoryId: z.number().nullable() });

/** An event's stored JSON as an object; internal category ids become codes. */
function eventData(kind: string, stored: string, categoryCodes: ReadonlyMap<number, string>): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    parsed = {};
  }
  const data = EventData.parse(parsed);
  const change = kind === "category_changed" ? CategoryChange.safeParse(data) : null;
  if (!change?.success) return data;
  const { fromCategoryId, toCategoryId, ...rest } = change.data;
  const codeOf = (id: number | null) => (id === null ? null : (categoryCodes.get(id) ?? null));
  return { fromCategory: codeOf(fromCategoryId), toCategory: codeOf(toCategoryId), ...rest };
}
