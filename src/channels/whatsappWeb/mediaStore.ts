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
