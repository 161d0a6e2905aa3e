/**
 * Where media residents send through WhatsApp Web are kept: whatsapp-web.js hands over the bytes
 * (`downloadMedia()`), there is no provider URL to point staff at. A stored file is named in
 * `Media.url` as `local-media:<key>`; the staff media route (src/http/staff/mediaProxy.ts) serves it
 * to staff who may see the ticket.
 */
export interface MediaStore {
  /** Keeps the bytes; returns the key (content-addressed: the same file twice is one file). */
  put(bytes: Buffer, contentType: string): Promise<string>;
  /** The bytes and type of a stored file, or null when there is no such file. */
  get(key: string): Promise<{ bytes: Buffer; contentType: string } | null>;
}

/** The URL scheme of a stored file in `Media.url`. */
export const LOCAL_MEDIA_SCHEME = "local-media:";

export const localMediaUrl = (key: string) => `${LOCAL_MEDIA_SCHEME}${key}`;

/** The key of a stored file's URL, or null for any other URL (a Twilio media URL). */
export function localMediaKey(url: string): string | null {
  if (!url.startsWith(LOCAL_MEDIA_SCHEME)) return null;
  const key = url.slice(LOCAL_MEDIA_SCHEME.length);
  return /^[a-f0-9]{64}\.[a-z0-9]{1,8}$/.test(key) ? key : null;
}

export type MediaKind = "image" | "document" | "audio" | "video";

const MB = 1024 * 1024;

/**
 * The media this channel keeps — one table for what is accepted (inbound.ts), how a file is named
 * and read back (diskMediaStore.ts) and how staff are shown it (the media route, the ticket page).
 * By base type, with its file extension, its kind and the largest file kept. Photos as the engine
 * reads them (src/conversation/media.ts); PDFs and Office files without macros (the old .doc/.xls and
 * the macro-enabled types can carry code and are left out); WhatsApp's voice notes (Opus in Ogg),
 * iPhone and Android audio, and videos. `aliases`: other names of the same type, stored under its
 * extension (only the exact type is accepted from WhatsApp).
 */
export const KEPT_MEDIA: ReadonlyArray<{ type: string; ext: string; kind: MediaKind; maxBytes: number; aliases?: readonly string[] }> = [
  { type: "image/jpeg", ext: "jpg", kind: "image", maxBytes: 5 * MB, aliases: ["image/jpg"] },
  { type: "image/png", ext: "png", kind: "image", maxBytes: 5 * MB },
  { type: "image/webp", ext: "webp", kind: "image", maxBytes: 5 * MB },
  { type: "image/gif", ext: "gif", kind: "image", maxBytes: 5 * MB },
  { type: "image/heic", ext: "heic", kind: "image", maxBytes: 5 * MB },
  { type: "application/pdf", ext: "pdf", kind: "document", maxBytes: 16 * MB },
  { type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ext: "docx", kind: "document", maxBytes: 16 * MB },
  { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ext: "xlsx", kind: "document", maxBytes: 16 * MB },
  { type: "audio/ogg", ext: "ogg", kind: "audio", maxBytes: 16 * MB },
  { type: "audio/mpeg", ext: "mp3", kind: "audio", maxBytes: 16 * MB },
  { type: "audio/mp4", ext: "m4a", kind: "audio", maxBytes: 16 * MB },
  { type: "audio/aac", ext: "aac", kind: "audio", maxBytes: 16 * MB },
  { type: "audio/amr", ext: "amr", kind: "audio", maxBytes: 16 * MB },
  { type: "video/mp4", ext: "mp4", kind: "video", maxBytes: 16 * MB },
  { type: "video/3gpp", ext: "3gp", kind: "video", maxBytes: 16 * MB },
];

/** "audio/ogg; codecs=opus" → "audio/ogg". */
export const baseType = (contentType: string) => (contentType.split(";")[0] ?? "").trim().toLowerCase();

/** The kept media entry of a content type, or undefined. */
export function keptMediaOf(contentType: string) {
  const base = baseType(contentType);
  return KEPT_MEDIA.find((m) => m.type === base);
}

/**
 * What a stored media file is to us, from its content type ("audio/ogg; codecs=opus" → "audio"), or
 * null for a type this channel does not keep. Decides what the staff pages show and how they serve it.
 */
export function mediaKindOf(contentType: string): MediaKind | null {
  return keptMediaOf(contentType)?.kind ?? null;
}
