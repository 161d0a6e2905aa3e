import { z } from "zod";

/** The languages the bot and the staff speak. */
export const LOCALES = ["ar", "en"] as const;
export type Locale = (typeof LOCALES)[number];

/** The channels a resident can reach the town hall on. */
export const CHANNELS = ["sms", "whatsapp"] as const;
export type ChannelKind = (typeof CHANNELS)[number];

export const LocationSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  address: z.string().optional(),
  label: z.string().optional(),
});
export type Location = z.infer<typeof LocationSchema>;

export const MediaSchema = z.object({ url: z.string(), contentType: z.string() });
export type Media = z.infer<typeof MediaSchema>;

/** One message from a resident, in the engine's channel-neutral words. */
export interface InboundEvent {
  text: string;
  location?: Location;
  media: Media[];
}

/** What a channel can carry; the engine adapts its questions to it. Data, not code paths. */
export interface ChannelCapabilities {
  channel: ChannelKind;
  /** Photos and other media can be received. */
  media: boolean;
  /** A location pin can be shared. */
  location: boolean;
  /** Budget of SMS segments for one reply (SMS only). */
  maxSegments: number | null;
  /** Free-form messages may only be sent this long after the resident's last message (WhatsApp: 24). */
  replyWindowHours: number | null;
}

/** A text in both languages, chosen at render time (category names come from the database). */
export interface Localized {
  ar: string;
  en: string;
}

/** A reference to another translation key, rendered in the reply's language. */
export interface TextRef {
  $t: string;
  params?: Record<string, ReplyParam>;
}

/** Numbered options shown one per line. */
export interface OptionList {
  options: ReadonlyArray<{ n: number; label: Localized | TextRef | string }>;
}

/** Numbered lines (e.g. a resident's tickets): each line is itself a reply. */
export interface LineList {
  lines: ReadonlyArray<TextRef>;
}

export type ReplyParam = string | number | Localized | TextRef | OptionList | LineList;

/** One thing the bot says, as a translation key with parameters; rendered per locale and channel. */
export interface Reply {
  key: string;
  params?: Record<string, ReplyParam>;
}

/** A ticket about to be filed, as the conversation collected it. */
export interface NewTicket {
  reference: number;
  categoryCode: string | null;
  description: string;
  location: Location | null;
  addressText: string | null;
  media: Media[];
  childRelated: boolean;
  needsHuman: boolean;
  /** When the resident started telling us about it: their messages since then belong to the ticket. */
  startedAt: Date;
}

/** The writes a conversation step asks for; the inbox applies them in the same transaction. */
export type Effect =
  | { type: "setLocale"; locale: Locale }
  | { type: "optOut" }
  | { type: "optIn" }
  | { type: "fileTicket"; ticket: NewTicket }
  | { type: "reopenTicket"; reference: number };

/** The bot's view of a category. */
export interface CategoryView {
  code: string;
  name: Localized;
  keywords: readonly string[];
  needsLocation: boolean;
  childRelated: boolean;
}

export const TICKET_STATUSES = ["new", "waiting_staff", "in_progress", "resolved", "closed"] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/** What a resident may see of one of their own tickets. */
export interface TicketView {
  reference: number;
  categoryCode: string | null;
  status: TicketStatus;
  needsHuman: boolean;
  createdAt: Date;
}

/**
 * Read-only questions the engine may ask about the world, scoped to the current resident.
 * The inbox implements them over the database inside the message's transaction; tests use a fake.
 */
export interface Lookups {
  categories(): Promise<readonly CategoryView[]>;
  /** The resident's open tickets, newest first, and how many there are in all. */
  openTickets(limit: number): Promise<{ tickets: TicketView[]; total: number }>;
  /** One of the resident's own tickets; null for someone else's or an unknown reference. */
  ticketByReference(reference: number): Promise<TicketView | null>;
  /** A reference no ticket uses yet. */
  freeReference(): Promise<number>;
}

/** What the engine knows about the resident and the moment, besides its own state. */
export interface StepContext {
  now: Date;
  resident: { locale: Locale | null; optedOut: boolean };
  capabilities: ChannelCapabilities;
  lookups: Lookups;
}
