import { describe, expect, it } from "vitest";
import { createI18n } from "../../../src/i18n/createI18n.js";
import { explainProviderError, PROVIDER_ERROR_KINDS, providerErrorCode, providerErrorDetail, providerErrorKey, providerErrorNotice, TWILIO_ERROR_CODES } from "../../../src/http/staff/providerErrors.js";
import { translator } from "../../../src/http/staff/staffContext.js";

const i18n = createI18n();

describe("provider errors in words", () => {
  it.each([
    // Node's network errors, as a code or inside a route's state.
    [{ code: "ENOTFOUND" }, "dns"],
    [{ detail: "getaddrinfo ENOTFOUND smsc.example.lb" }, "dns"],
    [{ detail: "connect ECONNREFUSED 10.0.0.5:2775" }, "refused"],
    [{ code: "ETIMEDOUT", detail: "no answer from the Android gateway within 10000ms" }, "timeout"],
    [{ code: "ECONNRESET" }, "reset"],
    [{ detail: "certificate has expired CERT_HAS_EXPIRED" }, "tls"],
    // The SMPP route's own words.
    [{ detail: "bind refused: ESME_RINVPASWD (0x0e)" }, "auth"],
    [{ detail: "not bound within 10000 ms" }, "timeout"],
    [{ detail: "enquire_link unanswered for 10000 ms" }, "timeout"],
    [{ detail: "unbound by the SMSC" }, "unbound"],
    [{ code: "ESME_RTHROTTLED", detail: "the SMSC refused submit_sm: ESME_RTHROTTLED (0x58)" }, "rateLimited"],
    // The Android gateway's HTTP statuses, and the outbox's "<code>: <message>".
    [{ code: "401", detail: "Unauthorized" }, "auth"],
    [{ detail: "404: HTTP 404" }, "urlNotFound"],
    [{ detail: "not_bound: no SMPP bind (connect ECONNREFUSED 10.0.0.5:2775)" }, "notBound"],
    [{ code: "invalid_number" }, "invalidNumber"],
    [{ code: "opted_out" }, "optedOut"],
    // The town's own WhatsApp phone (WhatsApp Web), as the outbox records its failures.
    [{ detail: "not_ready: WhatsApp Web is disconnected" }, "phoneNotReady"],
    [{ detail: "not_on_whatsapp: No LID for user" }, "notOnWhatsApp"],
    [{ detail: "chat_not_found: WhatsApp Web found no chat for this number" }, "notOnWhatsApp"],
    [{ detail: "template_unsupported: WhatsApp Web sends no Twilio templates" }, "unsupportedChannel"],
  ])("%o is explained as %s", (failure, kind) => {
    expect(providerErrorKey(failure)).toBe(`errors:provider.${kind}`);
  });

  it.each(TWILIO_ERROR_CODES.map((code) => [code]))("Twilio %s has its own explanation, in both languages", (code) => {
    expect(providerErrorKey({ code })).toBe(`errors:provider.twilio.${code}`);
    expect(providerErrorKey({ detail: `${code}: The message From/To pair violates a blacklist rule.` })).toBe(`errors:provider.twilio.${code}`);
    for (const lng of ["ar", "en"] as const) expect(explainProviderError(translator(i18n, lng), { code })).toContain(code);
  });

  it("every kind has a sentence in Arabic and in English", () => {
    for (const lng of ["ar", "en"] as const) for (const kind of PROVIDER_ERROR_KINDS) expect(translator(i18n, lng)(`errors:provider.${kind}`)).not.toBe("");
  });

  it("an unknown code is named, unknown text is only said to be an error, nothing is nothing", () => {
    const t = translator(i18n, "ar");
    expect(providerErrorCode({ code: "4711", detail: "ERROR something" })).toBeNull();
    expect(explainProviderError(t, { code: "4711" })).toBe("أبلغ المزوّد عن الخطأ 4711.");
    expect(explainProviderError(t, { detail: "something odd" })).toBe("أبلغ المزوّد عن خطأ.");
    expect(explainProviderError(t, {})).toBeNull();
    expect(providerErrorNotice(t, { code: null, detail: null })).toBeNull();
  });

  it("the technical text goes behind a Details toggle, as written, escaped", () => {
    const t = translator(i18n, "ar");
    expect(providerErrorDetail({ code: "21211", detail: "Invalid 'To' Phone Number" })).toBe("21211: Invalid 'To' Phone Number");
    expect(providerErrorDetail({ code: "ENOTFOUND", detail: "getaddrinfo ENOTFOUND <gw>" })).toBe("getaddrinfo ENOTFOUND <gw>");
    const notice = String(providerErrorNotice(t, { detail: "getaddrinfo ENOTFOUND <gw>" }));
    expect(notice).toContain("تعذّر العثور على عنوان مزوّد الخدمة (DNS)");
    expect(notice).toContain('<details class="tech-details"><summary>التفاصيل التقنية</summary><pre class="sms-text" dir="ltr">getaddrinfo ENOTFOUND &lt;gw&gt;</pre></details>');
  });
});
