import { parse as parseQuery, stringify as stringifyQuery } from "node:querystring";
import fc from "fast-check";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { verifyTwilioSignature } from "../../../src/channels/twilio/verifyTwilioSignature.js";
import { PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, twilioPayload, twilioSignature } from "../../support/twilio.js";

// The oracle is Twilio's own SDK: the signature it computes, and the answer its validateRequest gives.
type Outcome = { ok: boolean } | { threw: string };
const outcome = (f: () => boolean): Outcome => {
  try {
    return { ok: f() };
  } catch (error) {
    return { threw: error instanceof Error ? error.constructor.name : String(error) };
  }
};
const ours = (token: string, base: string, path: string, signature: string | undefined, params: Record<string, unknown>) =>
  outcome(() => verifyTwilioSignature(token, base, path, signature, params));
const sdks = (token: string, base: string, path: string, signature: string | undefined, params: Record<string, unknown>) =>
  outcome(() => (signature ? twilio.validateRequest(token, signature, base + path, params) : false));

describe("verifyTwilioSignature", () => {
  it("accepts what Twilio signed, for every fixture", () => {
    for (const fixture of ["sms", "whatsapp-text", "whatsapp-location", "whatsapp-image", "whatsapp-voice"] as const) {
      const fields = twilioPayload(fixture);
      expect(verifyTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, "/webhooks/twilio", twilioSignature(fields), fields)).toBe(true);
    }
  });

  it("refuses a missing or empty signature, another account's, another URL's, and changed fields", () => {
    const fields = twilioPayload("sms", { Body: "مرحبا & <hello>" });
    const good = twilioSignature(fields);
    const check = (signature: string | undefined, f: Record<string, unknown> = fields, path = "/webhooks/twilio") =>
      verifyTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, path, signature, f);
    expect(check(good)).toBe(true);
    expect(check(undefined)).toBe(false);
    expect(check("")).toBe(false);
    expect(check(twilioSignature(fields, undefined, "fedcba9876543210fedcba9876543210"))).toBe(false);
    expect(check(good, fields, "/webhooks/twilio/status")).toBe(false);
    expect(check(good, { ...fields, Body: "مرحبا & <hello!>" })).toBe(false);
    expect(check(good, { ...fields, Extra: "" })).toBe(false);
    expect(check(good.slice(0, -1))).toBe(false);
    expect(check(`${good}=`)).toBe(false);
    expect(check(good.toLowerCase())).toBe(false);
  });

  it("accepts a signature over the URL with the default port, or without it, as the SDK does", () => {
    const fields = { Body: "hi", From: "+9613000000" };
    for (const [base, signedAs] of [
      ["https://baladiya.example.org", "https://baladiya.example.org:443"],
      ["https://baladiya.example.org:443", "https://baladiya.example.org"],
      ["http://127.0.0.1:8080", "http://127.0.0.1"],
      ["http://127.0.0.1", "http://127.0.0.1:80"],
      ["https://[::1]", "https://[::1]:443"],
    ] as const) {
      const signature = twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${signedAs}/webhooks/twilio?x=1`, fields);
      expect(ours(TWILIO_AUTH_TOKEN, base, "/webhooks/twilio?x=1", signature, fields)).toEqual(sdks(TWILIO_AUTH_TOKEN, base, "/webhooks/twilio?x=1", signature, fields));
    }
  });

  it("counts a repeated field once per distinct value, sorted, as the SDK does", () => {
    const params = { MediaUrl: ["b", "a", "b", "c"], Body: "x" };
    const signature = twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${PUBLIC_BASE_URL}/webhooks/twilio`, params);
    expect(verifyTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, "/webhooks/twilio", signature, params)).toBe(true);
    expect(verifyTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, "/webhooks/twilio", signature, { ...params, MediaUrl: ["a", "b", "c"] })).toBe(true);
    expect(verifyTwilioSignature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL, "/webhooks/twilio", signature, { ...params, MediaUrl: ["a", "b"] })).toBe(false);
  });

  // ---- against the SDK, on anything --------------------------------------------------------------

  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom("a", "Z", "0", "ب", "😀", " ", "+", "%", "%2B", "%zz", "&", "=", "?", "#", "'", '"', "!", "*", "(", "~", ":", "@", "/", "[", "]", "\u0000", "\ud800", "\n"),
      fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
    ),
    maxLength: 12,
  });
  const base = fc.oneof(
    fc.constantFrom(PUBLIC_BASE_URL, "https://baladiya.example.org:443", "https://baladiya.example.org:8443", "http://127.0.0.1:3000", "http://localhost", "HTTPS://Baladiya.Example.org", "https://user:pw@example.org", "https://[::1]:443", "https://[::1]"),
    fc.tuple(fc.constantFrom("http", "https"), fc.constantFrom("example.org", "EXAMPLE.org", "[2001:db8::1]", "10.0.0.1"), fc.option(fc.integer({ min: 1, max: 65535 }))).map(
      ([scheme, host, port]) => `${scheme}://${host}${port === null ? "" : `:${port}`}`,
    ),
  );
  const path = fc.oneof(
    fc.constantFrom("/webhooks/twilio", "/webhooks/twilio/status?outbox=12&try=1700000000000", "/webhooks/twilio?a=%27b%27&c=d e", "/webhooks/twilio?", "/w?x=it's&y=%7E"),
    fc.tuple(text, fc.option(text)).map(([p, q]) => `/${p}${q === null ? "" : `?${q}`}`),
  );
  const value = fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: fc.array(text, { maxLength: 4 }) });
  const params = fc.dictionary(text, value, { maxKeys: 6 });
  const token = fc.oneof(fc.constant(TWILIO_AUTH_TOKEN), text);

  /** The URL Twilio might have signed, given the one we check: as is, re-ported, normalised, or another. */
  const signedUrl = (url: string, how: number): string => {
    try {
      const normal = new URL(url).toString();
      const query = normal.indexOf("?");
      // Node's legacy querystring re-encoding of the query (e.g. %27 back to ', + to %20).
      const legacy = query === -1 ? normal : `${normal.slice(0, query)}?${stringifyQuery(parseQuery(normal.slice(query + 1)))}`;
      const variants = [url, url.replace(/^(https?:\/\/[^/?#]*?)(:\d+)?(?=[/?#]|$)/i, "$1"), url.replace(/^(https:\/\/[^/?#:]*)(?=[/?#]|$)/i, "$1:443"), normal, legacy, `${url}x`];
      return variants[how % variants.length]!;
    } catch {
      return url;
    }
  };

  it("gives the SDK's answer (or throws as it does) for any token, URL, fields and signature", () => {
    fc.assert(
      fc.property(token, base, path, params, fc.nat(), fc.oneof(fc.constant("signed"), fc.constant(undefined), text), (t, b, p, f, how, sig) => {
        const signature = sig === "signed" ? twilio.getExpectedTwilioSignature(t, signedUrl(b + p, how), f) : sig;
        expect(ours(t, b, p, signature, f)).toEqual(sdks(t, b, p, signature, f));
      }),
      { numRuns: 3000 },
    );
  });

  it("the fuzz reaches both answers (it is not only comparing refusals)", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(base, path, params, fc.nat(), (b, p, f, how) => {
        const signature = twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, signedUrl(b + p, how), f);
        const result = ours(TWILIO_AUTH_TOKEN, b, p, signature, f);
        if ("ok" in result && result.ok) accepted++;
        else refused++;
      }),
      { numRuns: 500 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(20);
  });
});
