import { pino, type DestinationStream, type Logger } from "pino";
import { maskPhone } from "./maskPhone.js";

/**
 * Structured JSON logs. Phone numbers are masked where they are logged (`maskPhone`) and errors
 * are logged as `loggableError(error)`; these paths are redacted as a second line of defence in
 * case a raw payload or a raw HTTP client error (its config carries the auth header, its request
 * the resident's number) is ever logged. `destination` (stdout by default) lets tests read it.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: {
      paths: [
        "From",
        "To",
        "body.From",
        "body.To",
        "req.body.From",
        "req.body.To",
        "phone",
        "*.phone",
        "Body",
        "body.Body",
        "authToken",
        "*.authToken",
        // An HTTP client's error (axios, as the Twilio SDK uses): request, config and response hold
        // credentials and the resident's number.
        "err.config",
        "err.request",
        "err.response",
        "error.config",
        "error.request",
        "error.response",
        "*.headers.Authorization",
        "*.headers.authorization",
        "*.*.headers.Authorization",
        "*.*.headers.authorization",
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

// "+96171123456", "96171123456", "%2B96171123456": anything long enough to be a phone number.
const PHONE_LIKE = /(?:\+|%2B)?\d{7,15}/gi;

/**
 * What may be logged of an error: its code and message, with anything that looks like a phone
 * number masked and nothing else (no request, config, headers or response).
 */
export function loggableError(error: unknown): { code: string; message: string } {
  const code = typeof error === "object" && error !== null && "code" in error && (typeof error.code === "string" || typeof error.code === "number") ? String(error.code) : error instanceof Error ? error.name : "unknown";
  const raw = error instanceof Error ? error.message : typeof error === "string" ? error : "unexpected error";
  const message = raw.replace(PHONE_LIKE, (digits) => maskPhone(digits.replace(/^%2B/i, "+"))).slice(0, 500);
  return { code: code.replace(PHONE_LIKE, (digits) => maskPhone(digits)).slice(0, 80), message };
}
