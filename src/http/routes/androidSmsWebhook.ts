import express, { Router } from "express";
import type { Logger } from "pino";
import { parseAndroidWebhook } from "../../channels/android/parseAndroidWebhook.js";
import { verifyAndroidSignature } from "../../channels/android/verifyAndroidSignature.js";
import type { Db } from "../../db/createDb.js";
import type { Hot } from "../../db/hot/connect.js";
import { recordHeartbeat } from "../../db/hot/gateways.js";
import type { Inbox } from "../../inbox/handleInbound.js";
import { HttpError } from "../../lib/httpError.js";
import { loggableError } from "../../lib/logger.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { rateLimitedLog } from "../../lib/rateLimitedLog.js";
import { applyDeliveryStatus } from "../../services/deliveryStatus.js";
import type { OutboxContext } from "../../services/outbox.js";

export interface AndroidSmsWebhookDeps {
  logger: Logger;
  inbox: Inbox;
  db: Db;
  hot: Hot;
  municipalityId: string;
  /** ANDROID_SMS_SIGNING_KEY: the webhook answers 503 without it. */
  signingKey: string | undefined;
  outbox: Omit<OutboxContext, "now">;
  clock: () => Date;
}

// An SMS is at most a few kilobytes of JSON; anything much larger is not the gateway.
const BODY_LIMIT = "64kb";
/** A phone's heartbeat is written at most this often (each webhook counts; pings always do). */
const HEARTBEAT_EVERY_MS = 60_000;

const REFUSALS = {
  missing_signature: "Missing X-Signature",
  bad_signature: "Invalid X-Signature",
  missing_timestamp: "Missing X-Timestamp",
  stale_timestamp: "X-Timestamp is more than 5 minutes from our clock (a replayed or delayed request)",
} as const;

/**
 * `POST /webhooks/android-sms`: the events of "SMS Gateway for Android" (a phone with the
 * municipality's SIM). Signed with the shared key over the raw body and the timestamp (403
 * otherwise, and for a timestamp more than 5 minutes off: a replay), parsed (400 with the problem),
 * then:
 * - `sms:received`: handled by the inbox in one transaction, deduplicated on the event id; the
 *   bot's answer is queued in the outbox (it cannot ride on this response) and 200 is answered once
 *   the transaction has committed — an error answers 500, and the app sends the event again;
 * - `sms:sent` / `sms:delivered` / `sms:failed`: the message's delivery state;
 * - `system:ping` (and every other event): the phone is alive (the admin page shows when it was last heard).
 */
export function androidSmsWebhook(deps: AndroidSmsWebhookDeps): Router {
  const router = Router();
  const logRejected = rateLimitedLog((fields, message) => deps.logger.warn(fields, message), { perWindow: 10, windowMs: 60_000, clock: deps.clock });
  const lastBeat = new Map<string, number>();
  const heartbeat = async (deviceId: string, event: string, always: boolean) => {
    const at = deps.clock();
    const previous = lastBeat.get(deviceId);
    if (!always && previous !== undefined && at.getTime() - previous < HEARTBEAT_EVERY_MS) return;
    try {
      await recordHeartbeat(deps.hot.db, { municipalityId: deps.municipalityId, route: "android", deviceId, at, event });
      if (lastBeat.size > 1000) lastBeat.clear();
      lastBeat.set(deviceId, at.getTime());
    } catch (error) {
      // Losing a heartbeat must not make the phone send the event again.
      deps.logger.warn({ error: loggableError(error) }, "could not record the Android gateway's heartbeat");
    }
  };

  router.post("/webhooks/android-sms", express.raw({ type: () => true, limit: BODY_LIMIT }), async (req, res) => {
    if (!deps.signingKey) throw new HttpError(503, "The Android SMS gateway is not configured: set ANDROID_SMS_SIGNING_KEY");
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifyAndroidSignature({
      signingKey: deps.signingKey,
      rawBody,
      signature: req.header("X-Signature"),
      timestamp: req.header("X-Timestamp"),
      now: deps.clock(),
    });
    if (!verdict.ok) {
      logRejected({ reason: verdict.reason }, "rejected an Android gateway webhook");
      throw new HttpError(403, REFUSALS[verdict.reason]);
    }
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString("utf8"));
    } catch {
      throw new HttpError(400, "The body is not JSON");
    }
    const event = parseAndroidWebhook(json, deps.clock());
    switch (event.kind) {
      case "invalid":
        deps.logger.warn({ problem: event.problem }, "rejected an Android gateway webhook");
        throw new HttpError(400, event.problem);
      case "message": {
        const result = await deps.inbox(event.message);
        await heartbeat(event.deviceId, "sms:received", false);
        deps.logger.debug({ from: maskPhone(event.message.from), duplicate: result.duplicate }, "Android gateway message handled");
        res.status(200).json({ status: result.duplicate ? "duplicate" : "ok" });
        return;
      }
      case "status": {
        const matched = await deps.db.$transaction((tx) => applyDeliveryStatus(tx, { ...event.report, route: "android" }, deps.clock(), deps.outbox));
        if (!matched) deps.logger.warn({ providerMessageId: event.report.providerMessageId, status: event.report.status }, "Android gateway status for an unknown message");
        await heartbeat(event.deviceId, event.event, false);
        res.status(200).json({ status: "ok" });
        return;
      }
      case "ping":
        await heartbeat(event.deviceId, "system:ping", true);
        res.status(200).json({ status: "ok" });
        return;
      case "ignored":
        await heartbeat(event.deviceId, event.event, false);
        res.status(200).json({ status: "ignored" });
        return;
    }
  });
  return router;
}
