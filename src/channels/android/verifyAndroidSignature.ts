import { createHmac, timingSafeEqual } from "node:crypto";

export interface AndroidSignatureCheck {
  /** The app's webhook signing key (Settings → Webhooks → Signing Key). */
  signingKey: string;
  /** The request body exactly as received, before JSON parsing. */
  rawBody: Buffer;
  /** The `X-Signature` header. */
  signature: string | undefined;
  /** The `X-Timestamp` header: Unix time in seconds, when the phone signed the request. */
  timestamp: string | undefined;
  now: Date;
  /** How far the phone's clock may be from ours, either way; 5 minutes unless told. */
  maxSkewMs?: number;
}

export type AndroidSignatureResult =
  | { ok: true }
  | { ok: false; reason: "missing_signature" | "bad_signature" | "missing_timestamp" | "stale_timestamp" };

const DEFAULT_MAX_SKEW_MS = 5 * 60_000;

/**
 * Checks a webhook from SMS Gateway for Android: `X-Signature` is the hex HMAC-SHA256, keyed with the
 * signing key, of the raw body followed by the `X-Timestamp` header, both as UTF-8 bytes (as the
 * app's PayloadSigningPlugin computes it). Compared in constant time; upper-case hex is accepted.
 *
 * The signature is checked before the timestamp, so "stale_timestamp" is only ever said of a request
 * the phone did sign: a replay, or a phone whose clock is more than `maxSkewMs` off. A timestamp
 * that is not a whole number of seconds is stale. Throws only when `signingKey` is empty (a
 * configuration error: an empty key would let anyone sign).
 */
export function verifyAndroidSignature(check: AndroidSignatureCheck): AndroidSignatureResult {
  if (!check.signingKey) throw new TypeError("the Android gateway's signing key is empty");
  if (!check.signature) return { ok: false, reason: "missing_signature" };
  if (!check.timestamp) return { ok: false, reason: "missing_timestamp" };
  // Exactly 32 bytes of hex, or it cannot be the signature (and Buffer.from(…, "hex") would stop
  // quietly at the first character that is not hex).
  if (!/^[0-9a-f]{64}$/i.test(check.signature)) return { ok: false, reason: "bad_signature" };
  const given = Buffer.from(check.signature, "hex");
  const expected = createHmac("sha256", Buffer.from(check.signingKey, "utf8")).update(check.rawBody).update(check.timestamp, "utf8").digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad_signature" };

  if (!/^\d{1,12}$/.test(check.timestamp)) return { ok: false, reason: "stale_timestamp" };
  const skew = Math.abs(check.now.getTime() - Number(check.timestamp) * 1000);
  if (skew > (check.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) return { ok: false, reason: "stale_timestamp" };
  return { ok: true };
}
