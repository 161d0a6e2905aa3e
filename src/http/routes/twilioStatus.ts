import express, { Router } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { verifyTwilioSignature } from "../../channels/twilio/verifyTwilioSignature.js";
import type { Db } from "../../db/createDb.js";
import { HttpError } from "../../lib/httpError.js";
import { applyDeliveryStatus } from "../../services/deliveryStatus.js";
import type { OutboxContext } from "../../services/outbox.js";

export interface TwilioStatusDeps {
  db: Db;
  /** To hold a WhatsApp message refused for the 24-hour window and send the template instead. */
  outbox: Omit<OutboxContext, "now">;
  logger: Logger;
  authToken: string | undefined;
  publicBaseUrl: string;
  clock: () => Date;
}

const StatusCallback = z.looseObject({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-zA-Z]{10,40}$/, "is not a Twilio message SID"),
  MessageStatus: z.string().min(1).max(40),
  ErrorCode: z.string().max(20).optional(),
  ErrorMessage: z.string().max(500).optional(),
});
const Query = z.object({ outbox: z.coerce.number().int().positive().optional() });

/**
 * `POST /webhooks/twilio/status`: Twilio's delivery callbacks for messages the outbox sent. Signed
 * like the inbound webhook; applied idempotently and never backwards. Answers 204.
 */
export function twilioStatusWebhook(deps: TwilioStatusDeps): Router {
  const router = Router();
  router.post("/webhooks/twilio/status", express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 100 }), async (req, res) => {
    if (!deps.authToken) throw new HttpError(503, "Twilio is not configured: set TWILIO_AUTH_TOKEN");
    const body: Record<string, unknown> = req.body ?? {};
    const signature = req.header("X-Twilio-Signature");
    if (!verifyTwilioSignature(deps.authToken, deps.publicBaseUrl, req.originalUrl, signature, body)) {
      throw new HttpError(403, signature ? "Invalid X-Twilio-Signature" : "Missing X-Twilio-Signature");
    }
    const parsed = StatusCallback.safeParse(body);
    const query = Query.safeParse(req.query);
    if (!parsed.success || !query.success) {
      const issues = [...(parsed.error?.issues ?? []), ...(query.error?.issues ?? [])];
      throw new HttpError(400, issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
    }
    const update = parsed.data;
    const matched = await deps.db.$transaction((tx) =>
      applyDeliveryStatus(tx, { providerMessageId: update.MessageSid, status: update.MessageStatus.toLowerCase(), outboxId: query.data.outbox, errorCode: update.ErrorCode, errorMessage: update.ErrorMessage }, deps.clock(), deps.outbox),
    );
    if (!matched) deps.logger.warn({ sid: update.MessageSid, status: update.MessageStatus }, "delivery status for an unknown message");
    // Twilio only needs a 2xx; an unknown SID is not its problem to retry.
    res.status(204).end();
  });
  return router;
}
