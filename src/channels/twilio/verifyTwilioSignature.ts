import { createHmac, timingSafeEqual } from "node:crypto";
import { parse as parseQuery, stringify as stringifyQuery } from "node:querystring";

/**
 * Checks `X-Twilio-Signature` against the URL Twilio was configured with — the public base URL plus
 * the request path — never the Host header, which a proxy rewrites and an attacker controls.
 *
 * Twilio's request validation (HMAC-SHA1 with the auth token over the URL, then each POST parameter
 * sorted by name as name+value), done as twilio.validateRequest does it — the same URLs tried, in the
 * same order — without loading the SDK on the per-message path. The tests check it against the SDK.
 */
export function verifyTwilioSignature(
  authToken: string,
  publicBaseUrl: string,
  originalUrl: string,
  signature: string | undefined,
  params: Record<string, unknown>,
): boolean {
  if (!signature) return false;
  const url = publicBaseUrl + originalUrl;
  const given = Buffer.from(signature);
  const matches = (candidate: string) => {
    const expected = Buffer.from(expectedSignature(authToken, candidate, params));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  // The URL as received, with and without the default port: the string Twilio signed.
  if ([removePort(url), addPort(url)].some(matches)) return true;
  // Then as `new URL()` normalises it (special characters escaped), with and without the legacy
  // querystring re-encoding, for back ends that signed an escaped form.
  const normalized = new URL(url).toString();
  const withoutPort = removePort(normalized);
  const withPort = addPort(normalized);
  return [withoutPort, withPort, withLegacyQuerystring(withoutPort), withLegacyQuerystring(withPort)].some(matches);
}

/** Base64 HMAC-SHA1 of the URL followed by every parameter, sorted by name, as name+value. */
function expectedSignature(authToken: string, url: string, params: Record<string, unknown>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += nameValue(name, params[name]);
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf-8")).digest("base64");
}

/** A repeated parameter counts once per distinct value, the values sorted. */
function nameValue(name: string, value: unknown): string {
  if (Array.isArray(value)) {
    return Array.from(new Set<unknown>(value))
      .sort()
      .map((v) => nameValue(name, v))
      .join("");
  }
  // `+`, not a template literal: the same string conversion as the SDK's.
  return name + (value as string);
}

function splitUrl(url: string) {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme, authority] = match as unknown as [string, string, string];
  const userInfoEnd = authority.lastIndexOf("@");
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon only starts the port after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(":", hostAndPort.lastIndexOf("]") + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? "" : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/** The URL with the scheme's default port when it names none (https: 443, anything else: 80). */
function addPort(url: string): string {
  const parts = splitUrl(url);
  if (!parts || parts.port) return url;
  const port = parts.scheme.toLowerCase() === "https://" ? ":443" : ":80";
  return parts.scheme + parts.userInfo + parts.host + port + parts.rest;
}

function removePort(url: string): string {
  const parts = splitUrl(url);
  if (!parts) return url;
  return parts.scheme + parts.userInfo + parts.host + parts.rest;
}

/** The query string re-encoded the way Node's legacy `querystring` module does (e.g. `'` as `%27`). */
function withLegacyQuerystring(url: string): string {
  const queryStart = url.indexOf("?");
  if (queryStart === -1 || queryStart === url.length - 1) return url;
  return `${url.slice(0, queryStart)}?${stringifyQuery(parseQuery(url.slice(queryStart + 1)))}`;
}
