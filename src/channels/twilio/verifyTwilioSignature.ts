import twilio from "twilio";

/**
 * Checks `X-Twilio-Signature` against the URL Twilio was configured with — the public base URL plus
 * the request path — never the Host header, which a proxy rewrites and an attacker controls.
 */
export function verifyTwilioSignature(
  authToken: string,
  publicBaseUrl: string,
  originalUrl: string,
  signature: string | undefined,
  params: Record<string, unknown>,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, publicBaseUrl + originalUrl, params);
}
