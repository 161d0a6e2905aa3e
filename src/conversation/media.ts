import type { Media } from "./types.js";

/** Photos the bot keeps on a request, and anything else (voice notes, videos, documents) it cannot read. */
export function splitMedia(media: readonly Media[]): { images: Media[]; unsupported: Media[] } {
  const images = media.filter((m) => /^image\/(jpeg|jpg|png|webp|gif|heic)$/i.test(m.contentType));
  return { images, unsupported: media.filter((m) => !images.includes(m)) };
}
