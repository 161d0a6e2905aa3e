import type { SendResult } from "./sender.js";

// The request never reached the provider (DNS, a refused connection, a phone off the LAN, a wrong
// address): nothing can have been accepted, so sending again is safe without asking first.
const NEVER_SENT = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ERR_INVALID_URL"]);

/**
 * A send that got no HTTP answer at all: retryable, and ambiguous — the provider may have taken the
 * message (a timeout, a reset) — unless the request provably never left.
 */
export function networkFailure(error: unknown): Extract<SendResult, { status: "failed" }> {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "network";
  return { status: "failed", retryable: true, ...(NEVER_SENT.has(code) ? {} : { ambiguous: true }), code, message };
}
