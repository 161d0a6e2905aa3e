import type { ChannelKind } from "../conversation/types.js";

/** One message for a provider to deliver, as the outbox worker hands it over. */
export interface OutboundRequest {
  /** Our outbox row: the idempotency key of this delivery, also carried in the status callback URL. */
  outboxId: number;
  channel: ChannelKind;
  /** Provider address ("+961…" or "whatsapp:+961…"). */
  to: string;
  body: string;
  /** A pre-approved WhatsApp template instead of free-form text. */
  contentSid?: string | undefined;
  contentVariables?: string | undefined;
  /**
   * Which "try" of the row this is (changes when staff send a failed message again), carried in the
   * status callback so that a late report about an earlier try cannot change the current one.
   */
  attempt?: number | undefined;
}

/**
 * What a provider said. Never thrown: an answer is a value. `retryable` covers network errors,
 * 5xx and rate limits; `ambiguous` means no answer came back (timeout, reset), so the provider may
 * have accepted the message after all; `windowClosed` is WhatsApp refusing free-form text after 24 hours.
 */
export type SendResult =
  | { status: "sent"; providerMessageId: string }
  | { status: "failed"; retryable: boolean; ambiguous?: boolean; windowClosed?: boolean; unsubscribed?: boolean; code: string; message: string };

/** A provider's refusal or a send that did not get through, as `send` returns it. */
export function sendFailure(retryable: boolean, code: string, message: string, ambiguous = false): Extract<SendResult, { status: "failed" }> {
  return { status: "failed", retryable, ...(ambiguous ? { ambiguous: true } : {}), code, message };
}

/** A route's outbound side: every provider (Twilio, the Android gateway, SMPP) implements it. */
export interface ChannelSender {
  send(request: OutboundRequest): Promise<SendResult>;
  /**
   * Resolves when the provider may take this message (a provider's own rate: an Android phone sends
   * ~25 SMS parts a minute, an SMPP bind has a contracted throughput), and counts it as taken. The
   * outbox worker waits on it before claiming each row, so a row never sits claimed while waiting,
   * and gives up the wait (aborting `signal`) when it would hold the run too long: the row is tried
   * in a later run. Rejects when `signal` aborts, without counting the message.
   */
  pace?(request: OutboundRequest, signal?: AbortSignal): Promise<void>;
  /**
   * The provider's id for this request if the provider already accepted it since `since` — for a
   * worker that crashed between sending and recording, so that it records instead of sending twice.
   * Messages whose ids are `alreadyRecorded` (other rows' sends) never match. Null when nothing
   * matches (then sending again is right).
   */
  findAccepted(request: OutboundRequest, since: Date, alreadyRecorded: ReadonlySet<string>): Promise<string | null>;
}

/**
 * A provider's word on an outbound message (an Android gateway's `sms:delivered`, an SMPP delivery
 * receipt), in the outbox's vocabulary; `applyDeliveryStatus` records it.
 */
export interface DeliveryReport {
  /** The id the provider gave the message when it took it (`SendResult.providerMessageId`). */
  providerMessageId: string;
  /** "read": WhatsApp's blue ticks (WhatsApp Web's acknowledgements). */
  status: "sent" | "delivered" | "read" | "undelivered" | "failed";
  /** Our outbox row and try, when the provider carries them back (the Android gateway's message id does). */
  outboxId?: number | undefined;
  attempt?: number | undefined;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
}
