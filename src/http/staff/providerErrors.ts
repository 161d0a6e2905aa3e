import { technicalDetails } from "./components.js";
import { isolate } from "./format.js";
import { html, type HtmlValue } from "./html.js";
import type { Translate } from "./staffContext.js";

/**
 * What went wrong between us and a provider (Twilio, the Android gateway, the SMSC), in words staff
 * can act on. Each kind is a key of locales/{ar,en}/errors.json under `provider.`; Twilio's own
 * error codes have one each under `provider.twilio.`.
 */
export const PROVIDER_ERROR_KINDS = [
  "dns",
  "refused",
  "unreachable",
  "timeout",
  "reset",
  "tls",
  "badUrl",
  "auth",
  "urlNotFound",
  "rateLimited",
  "providerDown",
  "notBound",
  "unbound",
  "notConfigured",
  "invalidNumber",
  "unsupportedChannel",
  "tooLong",
  "smscRefused",
  "optedOut",
  "windowClosed",
  "phoneNotReady",
  "notOnWhatsApp",
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

/** Twilio error codes staff meet, each explained (https://www.twilio.com/docs/api/errors). */
export const TWILIO_ERROR_CODES = ["21211", "21408", "21610", "21612", "21614", "30003", "30004", "30005", "30006", "30007", "30008", "63003", "63016", "63024"] as const;

/**
 * Error codes as our senders store them (Message.errorCode, the `code` of a failed send) or as they
 * appear in a route's state: Node's network errors, HTTP statuses of the Android gateway, SMPP
 * command statuses, our senders' own codes, and the Twilio codes that share a kind.
 */
const KIND_OF_CODE: Readonly<Record<string, ProviderErrorKind>> = {
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  ECONNREFUSED: "refused",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ETIMEDOUT: "timeout",
  ESOCKETTIMEDOUT: "timeout",
  ECONNABORTED: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  timeout: "timeout",
  ECONNRESET: "reset",
  EPIPE: "reset",
  connection_lost: "reset",
  CERT_HAS_EXPIRED: "tls",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls",
  SELF_SIGNED_CERT_IN_CHAIN: "tls",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls",
  EPROTO: "tls",
  ERR_INVALID_URL: "badUrl",
  "401": "auth",
  "403": "auth",
  "20003": "auth", // Twilio: authentication failed
  ESME_RINVPASWD: "auth",
  ESME_RINVSYSID: "auth",
  ESME_RBINDFAIL: "auth",
  "404": "urlNotFound",
  "429": "rateLimited",
  "20429": "rateLimited", // Twilio: too many requests
  "63018": "rateLimited",
  ESME_RTHROTTLED: "rateLimited",
  ESME_RMSGQFUL: "rateLimited",
  "500": "providerDown",
  "502": "providerDown",
  "503": "providerDown",
  "504": "providerDown",
  "20500": "providerDown",
  "20503": "providerDown",
  ESME_RSYSERR: "providerDown",
  not_bound: "notBound",
  stopped: "notBound",
  not_configured: "notConfigured",
  invalid_number: "invalidNumber",
  invalid_address: "invalidNumber",
  ESME_RINVDSTADR: "invalidNumber",
  unsupported_channel: "unsupportedChannel",
  template_unsupported: "unsupportedChannel",
  // The town's own WhatsApp phone (WhatsApp Web).
  not_ready: "phoneNotReady",
  not_on_whatsapp: "notOnWhatsApp",
  chat_not_found: "notOnWhatsApp",
  too_long: "tooLong",
  ESME_RSUBMITFAIL: "smscRefused",
  opted_out: "optedOut",
  window_closed: "windowClosed",
};

/** Technical text that names no code but says what happened (the SMPP route's state). */
const KIND_OF_TEXT: ReadonlyArray<[RegExp, ProviderErrorKind]> = [
  [/not bound within|unanswered for|no answer to|no submit_sm_resp|no answer from/i, "timeout"],
  [/unbound by the SMSC/i, "unbound"],
  [/connection closed before/i, "reset"],
];

/**
 * Where codes hide in a technical text: "getaddrinfo ENOTFOUND smsc.example", "bind refused:
 * ESME_RINVPASWD (0x0e)", "HTTP 401", and the outbox's "<code>: <message>" ("21211: …", "not_bound: …").
 */
const CODES_IN_TEXT = /\b(?:E[A-Z0-9_]{2,}|ERR_[A-Z0-9_]+|UND_ERR_[A-Z_]+|[A-Z_]*CERT[A-Z_]*|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\b|(?<=\bHTTP )\d{3}\b|^\d{3,5}(?=:)|\b[a-z]+_[a-z_]+(?=:)/g;

const isTwilioCode = (code: string): code is (typeof TWILIO_ERROR_CODES)[number] => (TWILIO_ERROR_CODES as readonly string[]).includes(code);

/** A provider's failure as stored: its code, and the technical text that came with it. */
export interface ProviderFailure {
  code?: string | null | undefined;
  detail?: string | null | undefined;
}

/** The known code of a failure: its own, or the first one its detail names; null when neither is known. */
export function providerErrorCode(failure: ProviderFailure): string | null {
  const code = failure.code?.trim();
  if (code && (KIND_OF_CODE[code] || isTwilioCode(code))) return code;
  for (const [named] of failure.detail?.matchAll(CODES_IN_TEXT) ?? []) {
    if (KIND_OF_CODE[named] || isTwilioCode(named)) return named;
  }
  return null;
}

/**
 * The key (namespace "errors", with its prefix) that explains a failure, or null when we have no
 * words for it: the code's own explanation, else one the detail's words point to.
 */
export function providerErrorKey(failure: ProviderFailure): string | null {
  const code = providerErrorCode(failure);
  if (code && isTwilioCode(code)) return `errors:provider.twilio.${code}`;
  const kind = (code ? KIND_OF_CODE[code] : undefined) ?? KIND_OF_TEXT.find(([pattern]) => failure.detail && pattern.test(failure.detail))?.[1];
  return kind ? `errors:provider.${kind}` : null;
}

/**
 * The failure explained in the reader's language: a known code or detail gets its sentence; an
 * unknown code is named ("The provider answered with error 4711."); null when there is nothing.
 */
export function explainProviderError(t: Translate, failure: ProviderFailure): string | null {
  const key = providerErrorKey(failure);
  if (key) return t(key);
  const code = failure.code?.trim();
  if (code) return t("errors:provider.other", { code: isolate(code) });
  return failure.detail ? t("errors:provider.unexplained") : null;
}

/** The technical text of a failure as it was reported: the detail, with the code first unless the detail names it. */
export function providerErrorDetail(failure: ProviderFailure): string | null {
  const code = failure.code?.trim() ?? "";
  const detail = failure.detail?.trim() ?? "";
  if (!detail) return code || null;
  return !code || detail.includes(code) ? detail : `${code}: ${detail}`;
}

/**
 * The explanation, then the technical text behind a "Details" toggle (see `technicalDetails`);
 * nothing when there is no failure. Flow content: put it in a `<div>` or a cell, not in a `<p>`.
 */
export function providerErrorNotice(t: Translate, failure: ProviderFailure): HtmlValue {
  const explanation = explainProviderError(t, failure);
  if (!explanation) return null;
  return html`<span class="provider-error">${explanation}</span>${technicalDetails(t, providerErrorDetail(failure))}`;
}
