import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Router, type Response as ExpressResponse } from "express";
import { mediaKindOf } from "../../channels/whatsappWeb/mediaStore.js";
import { LOCAL_MEDIA_SCHEME, localMediaKey } from "../../channels/whatsappWeb/mediaStore.js";
import { HttpError } from "../../lib/httpError.js";
import { loggableError } from "../../lib/logger.js";
import { ticketDetail } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import { staffContext } from "./staffContext.js";
import { isInlineImage, parseReference } from "./ticketPage.js";

const notFound = () => new HttpError(404, "No such photo");

/**
 * `GET /staff/tickets/:reference/media/:owner/:index`: a resident's media, so the browser never sees
 * where it is kept. `owner` is a message id or "ticket" (the media filed with the request). Only for
 * staff who may see the ticket; 404 for anything else.
 * - A Twilio photo is fetched with the account's credentials and streamed through (images only:
 *   404 when Twilio fails or is not configured).
 * - A file the server keeps (`local-media:`, WhatsApp Web) is read from `deps.mediaStore`: photos
 *   shown inline, voice notes, audio and video inline for playing, documents as a download.
 * A local-media URL never reaches Twilio's fetcher (it would send the credentials), and a Twilio URL
 * is never looked up in the store.
 */
export function mediaProxy(deps: RouterDeps): Router {
  const router = Router();
  router.get("/tickets/:reference/media/:owner/:index", async (req, res) => {
    const { actor } = staffContext(req);
    const reference = parseReference(req.params.reference);
    const { owner, index } = req.params;
    if (!/^\d{1,3}$/.test(index) || !(owner === "ticket" || /^\d{1,12}$/.test(owner))) throw notFound();
    const detail = await ticketDetail(deps.db, actor, reference, deps.clock());
    if (!detail) throw notFound();
    const media = owner === "ticket" ? detail.media : detail.messages.find((m) => m.id === Number(owner))?.media;
    const item = media?.[Number(index)];
    if (item?.url.startsWith(LOCAL_MEDIA_SCHEME)) {
      await serveStored(deps, localMediaKey(item.url), res, { reference, owner, index });
      return;
    }
    const fetchMedia = deps.twilio.fetchMedia;
    if (!item || !isInlineImage(item.contentType) || !fetchMedia) throw notFound();

    let upstream: Response;
    try {
      upstream = await fetchMedia(item.url);
    } catch (error) {
      deps.logger.warn({ err: error, reference }, "fetching a resident's photo failed");
      throw notFound();
    }
    const contentType = upstream.headers.get("content-type") ?? "";
    if (!upstream.ok || !upstream.body || !isInlineImage(contentType)) {
      deps.logger.warn({ status: upstream.status, contentType, reference }, "Twilio did not return the photo");
      await upstream.body?.cancel().catch(() => undefined);
      throw notFound();
    }
    res.status(200);
    res.set({
      "Content-Type": contentType,
      // Residents' photos must not outlive the session in the browser's cache.
      "Cache-Control": "private, no-store",
      "Content-Disposition": "inline",
      ...UNTRUSTED_BYTES,
    });
    const length = upstream.headers.get("content-length");
    if (length && /^\d+$/.test(length)) res.set("Content-Length", length);
    try {
      await pipeline(Readable.fromWeb(upstream.body), res);
    } catch (error) {
      // The browser went away mid-photo, or Twilio did: nothing to answer any more.
      deps.logger.debug({ err: error, reference }, "photo stream ended early");
    }
  });
  return router;
}

// Whatever the bytes are, they never run as a page of ours, nor are they read as another type.
const UNTRUSTED_BYTES = { "Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff" };

/**
 * A file the server keeps, with the type it was kept as: only the kinds the channel stores (an
 * unknown type is 404, never served as something a browser might render). Documents download (a
 * PDF viewer runs script; Office files open outside the browser), with a file name that says
 * which ticket they came from.
 */
async function serveStored(deps: RouterDeps, key: string | null, res: ExpressResponse, where: { reference: number; owner: string; index: string }) {
  if (!deps.mediaStore || key === null) throw notFound();
  let stored;
  try {
    stored = await deps.mediaStore.get(key);
  } catch (error) {
    deps.logger.warn({ err: loggableError(error), reference: where.reference }, "reading a stored media file failed");
    throw notFound();
  }
  const kind = stored ? mediaKindOf(stored.contentType) : null;
  if (!stored || !kind || (kind === "image" && !isInlineImage(stored.contentType))) throw notFound();
  const extension = key.slice(key.lastIndexOf(".") + 1);
  res.status(200);
  res.set({
    "Content-Type": stored.contentType,
    "Content-Length": String(stored.bytes.length),
    // Residents' files must not outlive the session in the browser's cache.
    "Cache-Control": "private, no-store",
    "Content-Disposition": kind === "document" ? `attachment; filename="ticket-${where.reference}-${where.owner}-${where.index}.${extension}"` : "inline",
    ...UNTRUSTED_BYTES,
  });
  res.end(stored.bytes);
}
