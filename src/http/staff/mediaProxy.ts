import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Router } from "express";
import { HttpError } from "../../lib/httpError.js";
import { ticketDetail } from "../../services/ticketQueries.js";
import type { RouterDeps } from "../createApp.js";
import { staffContext } from "./staffContext.js";
import { isInlineImage, parseReference } from "./ticketPage.js";

const notFound = () => new HttpError(404, "No such photo");

/**
 * `GET /staff/tickets/:reference/media/:owner/:index`: a resident's photo, fetched from Twilio with
 * the account's credentials and streamed through, so the browser never sees a Twilio URL. `owner` is
 * a message id or "ticket" (the photos filed with the request). Only for staff who may see the
 * ticket, only images; 404 for anything else, including Twilio failing or not being configured.
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
      // Whatever the bytes are, they never run as a page of ours.
      "Content-Security-Policy": "default-src 'none'; sandbox",
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
