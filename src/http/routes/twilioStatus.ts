import express, { Router } from "express";
import { z } from "zod";
import { twilioAccountSid, twilioMessageSid } from "../../channels/twilio/parseTwilioInbound.js";
import type { Db } from "../../db/createDb.js";
import { HttpError } from "../../lib/httpError.js";
import { applyDeliveryStatus } from "../../services/deliveryStatus.js";
import type { OutboxContext } from "../../services/outbox.js";
import { rejectNul } from "../rejectNul.js";
import { twilioRequestGuard, type TwilioGuardDeps } from "./twilioWebhook.js";

export interface TwilioStatusDeps extends TwilioGuardDeps {
  db: Db;
  /** To hold a WhatsApp message refused for the 24-hour window and send the template instead. */
  outbox: Omit<OutboxContext, "now">;
}

// Shapes, not lists: Twilio adds statuses and error codes without notice; an unknown status is
// acknowledged and ignored by applyDeliveryStatus.
const StatusCallback = z.looseObject({
  MessageSid: twilioMessageSid,
  MessageStatus: z.string({ error: "is required" }).regex(/^[A-Za-z_]{1,40}$/, "is not a message status"),
  ErrorCode: z
    .string()
    .regex(/^\d{0,10}$/, "is not a Twilio error code")
    .transform((code) => code || undefined)
    .optional(),
  ErrorMessage: z.string().max(1000, "is longer than 1000 characters").optional(),
  AccountSid: twilioAccountSid.optional(),
});
// Our outbox ids are PostgreSQL integers: 1 to 2^31-1, written in plain decimal.
const MAX_ID = 2 ** 31 - 1;
const MAX_TRY = "999999999999999";
const Query = z.object({
  outbox: z
    .string({ error: "must be given once" })
    .regex(/^[1-9]\d{0,9}$/, `is not a whole number from 1 to ${MAX_ID}`)
    .transform(Number)
    .refine((id) => id <= MAX_ID, `is not a whole number from 1 to ${MAX_ID}`)
    .optional(),
  // Which try of the row (a time in milliseconds, written by our sender): plain decimal, at most 15 digits.
  try: z
    .string({ error: "must be given once" })
    .regex(/^[1-9]\d{0,14}$/, `is not a whole number from 1 to ${MAX_TRY}`)
    .transform(Number)
    .optional(),
});

/**
 * `POST /webhooks/twilio/status`: Twilio's delivery callbacks for messages the outbox sent. Signed
 * like the inbound webhook (403), then every field and the `outbox` id in the URL are checked (400
 * with the reason; a NUL anywhere is refused) before the database is touched. Applied idempotently
 * and never backwards. Answers 204.
 */
export function twilioStatusWebhook(deps: TwilioStatusDeps): Router {
  const router = Router();
  router.post(
    "/webhooks/twilio/status",
    express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 100 }),
    twilioRequestGuard(deps),
    rejectNul,
    async (req, res) => {
      const parsed = StatusCallback.safeParse(req.body ?? {});
      const query = Query.safeParse(req.query);
      if (!parsed.success || !query.success) {
        const issues = [...(parsed.error?.issues ?? []), ...(query.error?.issues ?? [])];
        throw new HttpError(400, issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
      }
      const update = parsed.data;
      const matched = await deps.db.$transaction((tx) =>
        applyDeliveryStatus(
          tx,
          { providerMessageId: update.MessageSid, status: update.MessageStatus.toLowerCase(), outboxId: query.data.outbox, attempt: query.data.try, errorCode: update.ErrorCode, errorMessage: update.ErrorMessage },
          deps.clock(),
          deps.outbox,
        ),
      );
      if (!matched) deps.logger.warn({ sid: update.MessageSid, status: update.MessageStatus }, "delivery status for an unknown message");
      // Twilio only needs a 2xx; an unknown SID is not its problem to retry.
      res.status(204).end();
    },
  );
  return router;
}
