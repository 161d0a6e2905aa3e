import express, { Router } from "express";
import type { Logger } from "pino";
import { parseTwilioInbound } from "../../channels/twilio/parseTwilioInbound.js";
import { renderTwiml } from "../../channels/twilio/renderTwiml.js";
import { verifyTwilioSignature } from "../../channels/twilio/verifyTwilioSignature.js";
import type { Inbox } from "../../inbox/handleInbound.js";
import { HttpError } from "../../lib/httpError.js";
import { maskPhone } from "../../lib/maskPhone.js";

export interface TwilioWebhookDeps {
  inbox: Inbox;
  logger: Logger;
  authToken: string | undefined;
  publicBaseUrl: string;
  clock: () => Date;
}

// Real inbound webhooks are a few kilobytes; anything much larger is not Twilio.
const BODY_LIMIT = "32kb";

/**
 * `POST /webhooks/twilio`: inbound SMS and WhatsApp messages. Signed by Twilio (403 otherwise),
 * parsed with zod (400 with the problem), answered synchronously with TwiML.
 */
export function twilioWebhook(deps: TwilioWebhookDeps): Router {
  const router = Router();
  router.post(
    "/webhooks/twilio",
    express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 200 }),
    async (req, res) => {
      if (!deps.authToken) throw new HttpError(503, "Twilio is not configured: set TWILIO_AUTH_TOKEN");
      const body: Record<string, unknown> = req.body ?? {};
      const signature = req.header("X-Twilio-Signature");
      if (!verifyTwilioSignature(deps.authToken, deps.publicBaseUrl, req.originalUrl, signature, body)) {
        deps.logger.warn({ path: req.originalUrl, signed: Boolean(signature) }, "rejected Twilio webhook with a bad signature");
        throw new HttpError(403, signature ? "Invalid X-Twilio-Signature" : "Missing X-Twilio-Signature");
      }
      const parsed = parseTwilioInbound(body, deps.clock());
      if (!parsed.ok) {
        deps.logger.warn({ problem: parsed.problem, from: maskPhone(String(body.From ?? "")) }, "rejected Twilio webhook");
        throw new HttpError(400, parsed.problem);
      }
      const result = await deps.inbox(parsed.message);
      res.type("text/xml").send(renderTwiml(result.replies));
    },
  );
  return router;
}
