import express, { Router, type RequestHandler } from "express";
import type { Logger } from "pino";
import { parseTwilioInbound } from "../../channels/twilio/parseTwilioInbound.js";
import { renderTwiml } from "../../channels/twilio/renderTwiml.js";
import { verifyTwilioSignature } from "../../channels/twilio/verifyTwilioSignature.js";
import type { Inbox } from "../../inbox/handleInbound.js";
import { HttpError } from "../../lib/httpError.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { rateLimitedLog } from "../../lib/rateLimitedLog.js";

/** What both Twilio webhooks need to tell Twilio's requests from anyone else's. */
export interface TwilioGuardDeps {
  logger: Logger;
  authToken: string | undefined;
  /** TWILIO_ACCOUNT_SID: when set, a request for another account is refused. */
  accountSid?: string | undefined;
  publicBaseUrl: string;
  clock: () => Date;
}

export interface TwilioWebhookDeps extends TwilioGuardDeps {
  inbox: Inbox;
  /** TWILIO_SMS_FROM / TWILIO_WHATSAPP_FROM: when set, a message to another number is refused. */
  smsFrom?: string | undefined;
  whatsappFrom?: string | undefined;
}

// A WhatsApp body of 4096 four-byte characters is ~48 KB percent-encoded; anything much larger is not Twilio.
const BODY_LIMIT = "64kb";
const NOT_OUR_ACCOUNT = "AccountSid is not this deployment's Twilio account (TWILIO_ACCOUNT_SID)";

/**
 * `POST /webhooks/twilio`: inbound SMS and WhatsApp messages. Signed by Twilio for our account and
 * sent to our number (403 otherwise), parsed with zod (400 with the problem, before anything is
 * written), answered synchronously with TwiML.
 */
export function twilioWebhook(deps: TwilioWebhookDeps): Router {
  const router = Router();
  router.post(
    "/webhooks/twilio",
    express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 200 }),
    twilioRequestGuard(deps),
    async (req, res) => {
      const body: Record<string, unknown> = req.body ?? {};
      const parsed = parseTwilioInbound(body, deps.clock());
      if (!parsed.ok) {
        deps.logger.warn({ problem: parsed.problem, from: maskPhone(String(body.From ?? "").slice(0, 40)) }, "rejected Twilio webhook");
        throw new HttpError(400, parsed.problem);
      }
      const { channel } = parsed.message;
      const ours = channel === "sms" ? deps.smsFrom : deps.whatsappFrom;
      if (ours && parsed.to?.toLowerCase() !== ours.toLowerCase()) {
        const setting = channel === "sms" ? "SMS number (TWILIO_SMS_FROM)" : "WhatsApp number (TWILIO_WHATSAPP_FROM)";
        throw new HttpError(403, `To is not this deployment's ${setting}`);
      }
      const result = await deps.inbox(parsed.message);
      // The answer goes to Twilio alone: no ETag to compute (express's send would hash the body).
      res.setHeader("Content-Type", "text/xml; charset=utf-8");
      res.end(renderTwiml(result.replies));
    },
  );
  return router;
}

/**
 * Lets through only requests Twilio signed for this URL with our auth token (403 otherwise) and, when
 * TWILIO_ACCOUNT_SID is set, for our account (403). 503 while Twilio is not configured. Rejected
 * signatures are logged at most 10 a minute, then as one line with the count: a flood of forged
 * requests must not fill the disk.
 */
export function twilioRequestGuard(deps: TwilioGuardDeps): RequestHandler {
  const logRejected = rateLimitedLog((fields, message) => deps.logger.warn(fields, message), { perWindow: 10, windowMs: 60_000, clock: deps.clock });
  return (req, _res, next) => {
    if (!deps.authToken) throw new HttpError(503, "Twilio is not configured: set TWILIO_AUTH_TOKEN");
    const body: Record<string, unknown> = req.body ?? {};
    const signature = req.header("X-Twilio-Signature");
    if (!verifyTwilioSignature(deps.authToken, deps.publicBaseUrl, req.originalUrl, signature, body)) {
      logRejected({ path: req.originalUrl.slice(0, 200), signed: Boolean(signature) }, "rejected Twilio webhook with a bad signature");
      throw new HttpError(403, signature ? "Invalid X-Twilio-Signature" : "Missing X-Twilio-Signature");
    }
    if (deps.accountSid && body.AccountSid !== deps.accountSid) throw new HttpError(403, NOT_OUR_ACCOUNT);
    next();
  };
}
