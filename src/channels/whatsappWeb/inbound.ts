import type { Logger } from "pino";
import type { Location, Media } from "../../conversation/types.js";
import type { InboundMessage } from "../../inbox/inboundMessage.js";
import { loggableError } from "../../lib/logger.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { isPersonalChat, type WwebLocation, type WwebMessage } from "./client.js";
import { WHATSAPP_BODY_MAX } from "../twilio/parseTwilioInbound.js";
import { keptMediaOf, KEPT_MEDIA, localMediaUrl, type MediaKind, type MediaStore } from "./mediaStore.js";

export interface InboundDeps {
  /**
   * The resident behind a chat id: "961…@c.us" → "+961…", and a hidden number ("…@lid") → its phone
   * when WhatsApp tells it, else "lid:<digits>" with `verifiedPhone: false`.
   */
  resolveSender(chatId: string): Promise<{ from: string; verifiedPhone: boolean }>;
  media: MediaStore;
  logger: Logger;
  /**
   * For a message without a timestamp, and to tell whether a media download that did not come is
   * worth trying again; the system clock when unset.
   */
  clock?: () => Date;
}

/**
 * Turns a message from whatsapp-web.js into an `InboundMessage` (route "whatsapp-web"), or null for
 * what is not a resident writing to the town hall: groups, statuses, broadcast lists and channels, our
 * own messages, calls, system notices, reactions, stickers and the kinds the bot cannot read (contact
 * cards, polls, …) — each logged at debug level. Photos, documents, voice notes, audio and videos
 * are downloaded and kept in `deps.media`. One too large or of a type we do not keep is left out
 * and logged — not even downloaded when WhatsApp tells its size and type beforehand — and the
 * message is still handed over with its caption. One whose download fails or does not come (the
 * library says nothing while WhatsApp is still fetching the file, or after a network error) makes
 * it reject while the message is less than 30 minutes old (`MEDIA_RETRY_MS`, by `deps.clock`): the
 * chat then stays unread and the message is taken again at the next catch-up, as the inbox would
 * drop a second copy of a message already handed over without its photo. Past that, or for a
 * message without a time, it is handed over without the file (logged): the resident still gets an
 * answer. Rejects also when the sender cannot be resolved or the media store fails, the message
 * then too left unread for the next catch-up.
 */
export async function toInbound(message: WwebMessage, deps: InboundDeps): Promise<InboundMessage | null> {
  const ignored = whyIgnored(message);
  if (ignored) {
    deps.logger.debug({ messageId: message.id.id, type: message.type, reason: ignored }, "WhatsApp Web message ignored");
    return null;
  }
  const { from, verifiedPhone } = await deps.resolveSender(message.from);
  const log = deps.logger.child({ messageId: message.id.id, from: maskPhone(from), type: message.type });
  const profileName = cleanText(message._data?.notifyName ?? "", PROFILE_NAME_MAX).trim();
  const common = {
    channel: "whatsapp",
    route: "whatsapp-web",
    providerMessageId: message.id._serialized,
    from,
    verifiedPhone,
    ...(profileName ? { profileName } : {}),
    receivedAt: receivedAtOf(message, deps.clock),
  } as const;

  if (message.type === "location") {
    const location = locationOf(message.location);
    if (!location) log.warn("location message without a valid position: handed over without it");
    // The body of a location message is its map thumbnail (base64 JPEG), not words.
    return { ...common, text: "", media: [], ...(location ? { location } : {}) };
  }
  if (message.type === "chat") return { ...common, text: cleanText(message.body, TEXT_MAX), media: [] };
  // A media message's body is its caption — unless the media is not there, when the library puts
  // the thumbnail in the body instead.
  const text = message.hasMedia ? cleanText(message.body, TEXT_MAX) : "";
  return { ...common, text, media: await mediaOf(message, deps, log) };
}

/**
 * How long after a message was sent a media download that failed or did not come rejects (to be
 * tried again at the next catch-up) rather than handing the message over without its file.
 */
export const MEDIA_RETRY_MS = 30 * 60_000;

/** No file larger than this is kept, whatever its type. */
const LARGEST_MEDIA = Math.max(...KEPT_MEDIA.map((m) => m.maxBytes));

/**
 * The message kinds handed over; everything else is ignored. Stickers are ignored on purpose: they
 * are WebP images, so the engine would take a "thank you" sticker for a photo of the problem, and
 * they carry no words to answer. Contact cards, polls, button replies and the rest carry nothing the
 * bot can act on.
 */
const HANDED_OVER = new Set(["chat", "location", "image", "document", "ptt", "audio", "video"]);

// What the Twilio route accepts of a WhatsApp body, so a resident's text is stored the same whichever way it came.
const TEXT_MAX = WHATSAPP_BODY_MAX;
const PROFILE_NAME_MAX = 200;
const LABEL_MAX = 500;
// Twilio's MediaContentType shape: a type/subtype and printable parameters.
const CONTENT_TYPE = /^[\w.+-]{1,64}\/[\w.+-]{1,128}(?:;[ -~]{0,200})?$/;

/** Why a message is not for the inbox, or null when it is. */
function whyIgnored(message: WwebMessage): string | null {
  if (message.fromMe || message.id.fromMe) return "sent by this account";
  if (message.isStatus || message.from === "status@broadcast") return "status update";
  if (message.from.endsWith("@g.us")) return "group";
  if (message.from.endsWith("@broadcast")) return "broadcast";
  if (message.from.endsWith("@newsletter")) return "channel";
  if (!isPersonalChat(message.from)) return "not a person's chat";
  if (message.type === "call_log") return "call";
  if (!HANDED_OVER.has(message.type)) return "not a kind the bot reads";
  return null;
}

/** WhatsApp's time of the message; the clock when the library gives none. */
function receivedAtOf(message: WwebMessage, clock: (() => Date) | undefined): Date {
  const seconds = message.timestamp;
  if (typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0) return new Date(seconds * 1000);
  return clock ? clock() : new Date();
}

/** The pin, if its coordinates are numbers in range (the library passes WhatsApp's values through, as numbers or strings). */
function locationOf(location: WwebLocation | undefined): Location | null {
  if (!location) return null;
  const latitude = coordinate(location.latitude, 90);
  const longitude = coordinate(location.longitude, 180);
  if (latitude === null || longitude === null) return null;
  const address = cleanText(location.address ?? "", LABEL_MAX).trim();
  // The library's description is "name\naddress" (or either alone): only a name-like part is a label.
  const description = cleanText(location.description ?? "", LABEL_MAX).trim();
  const label = cleanText(location.name ?? "", LABEL_MAX).trim() || (description !== address ? description : "");
  return { latitude, longitude, ...(label ? { label } : {}), ...(address ? { address } : {}) };
}

function coordinate(value: number | string | undefined, bound: number): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\s*[+-]?\d{1,3}(?:\.\d{1,20})?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && Math.abs(n) <= bound ? n : null;
}

/**
 * The message's file, kept in the store; none when it is not one we keep (checked before the
 * download when WhatsApp tells the size and type, and again on the file) or could not be had from an
 * older message. Rejects when the download fails or does not come for a recent message (to be taken
 * again), or when the store fails.
 */
async function mediaOf(message: WwebMessage, deps: InboundDeps, log: Logger): Promise<Media[]> {
  if (!message.hasMedia) {
    log.warn("media message without media: handed over without it");
    return [];
  }
  // What WhatsApp tells before the download: a 300 MB document is not base64-shipped into Node.
  const toldType = typeof message._data?.mimetype === "string" ? message._data.mimetype.trim() : "";
  const toldSize = typeof message._data?.size === "number" && Number.isFinite(message._data.size) ? message._data.size : undefined;
  const toldAccepted = toldType ? acceptedOf(toldType) : undefined;
  if (toldType && !toldAccepted) {
    log.warn({ contentType: toldType.slice(0, 100), checked: "before download" }, "media of a type we do not keep: handed over without it");
    return [];
  }
  const toldMax = toldAccepted?.maxBytes ?? LARGEST_MEDIA;
  if (toldSize !== undefined && toldSize > toldMax) {
    log.warn({ ...(toldType ? { contentType: toldType.slice(0, 100) } : {}), bytes: toldSize, maxBytes: toldMax, checked: "before download" }, "media too large to keep: handed over without it");
    return [];
  }

  let media;
  let failure: { error: unknown } | undefined;
  try {
    media = await message.downloadMedia();
  } catch (error) {
    failure = { error };
  }
  if (failure || !media || typeof media.data !== "string" || typeof media.mimetype !== "string") {
    const err = failure ? { err: loggableError(failure.error) } : {};
    if (mayStillCome(message, deps.clock)) {
      log.warn(err, failure ? "downloading a resident's media failed: the message is left unread, to be taken again" : "WhatsApp did not give the media (yet): the message is left unread, to be taken again");
      throw new Error("WhatsApp Web media not downloaded yet: the message is left unread, to be taken again at the next catch-up", failure ? { cause: failure.error } : undefined);
    }
    log.warn(err, failure ? "downloading a resident's media failed: handed over without it" : "WhatsApp no longer has the media: handed over without it");
    return [];
  }
  const contentType = media.mimetype.trim();
  const accepted = acceptedOf(contentType);
  if (!accepted) {
    log.warn({ contentType: contentType.slice(0, 100) }, "media of a type we do not keep: handed over without it");
    return [];
  }
  // Measured on the base64 before decoding, so a huge file is never copied into a Buffer.
  const size = base64Size(media.data);
  if (size > accepted.maxBytes) {
    log.warn({ contentType, bytes: size, maxBytes: accepted.maxBytes }, "media too large to keep: handed over without it");
    return [];
  }
  const bytes = Buffer.from(media.data, "base64");
  if (bytes.length === 0) {
    log.warn({ contentType }, "empty media: handed over without it");
    return [];
  }
  const key = await deps.media.put(bytes, contentType);
  return [{ url: localMediaUrl(key), contentType }];
}

/** The limits of a content type we keep, if it is one (and well formed). */
function acceptedOf(contentType: string): { kind: MediaKind; maxBytes: number } | undefined {
  return CONTENT_TYPE.test(contentType) ? keptMediaOf(contentType) : undefined;
}

/**
 * Whether a file that did not come is worth another try: the message is less than `MEDIA_RETRY_MS`
 * old (or stamped ahead of our clock). A message without a time is not: its age is unknown, and it
 * would be tried forever.
 */
function mayStillCome(message: WwebMessage, clock: (() => Date) | undefined): boolean {
  const seconds = message.timestamp;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) return false;
  const now = (clock ? clock() : new Date()).getTime();
  return now - seconds * 1000 < MEDIA_RETRY_MS;
}

/** "audio/ogg; codecs=opus" → "audio/ogg". */
/** The decoded size of base64 text, without decoding it. */
function base64Size(data: string): number {
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return Math.max(0, Math.floor((data.length * 3) / 4) - padding);
}

/** Words a person wrote: no NULs (PostgreSQL cannot store one), at most `max` code points. */
function cleanText(text: string, max: number): string {
  const clean = typeof text === "string" ? text.replaceAll("\u0000", "") : "";
  const points = [...clean];
  return points.length > max ? points.slice(0, max).join("") : clean;
}
