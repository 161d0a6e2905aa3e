import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanText, toJson, toXml } from "../../../src/services/open311/document.js";
import type { O311Request } from "../../../src/services/open311/types.js";
import { parseOpen311Xml, sameAsXml, sparkFromXml, XML_DECLARATION } from "../../support/open311.js";

const request = (overrides: Partial<O311Request> = {}): O311Request => ({
  service_request_id: "10427",
  status: "open",
  status_notes: null,
  service_name: "Potholes",
  service_code: "roads",
  description: "A hole near the church",
  agency_responsible: "Public works",
  service_notice: null,
  requested_datetime: "2026-11-29T09:15:00+02:00",
  updated_datetime: "2026-11-29T09:15:00+02:00",
  expected_datetime: null,
  address: null,
  address_id: null,
  zipcode: null,
  lat: 33.8125,
  long: 35.8875,
  media_url: null,
  ...overrides,
});

// Any text, with the awkward cases made likely: controls, lone surrogates, CR, markup.
const awkwardText = fc
  .array(fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("\u0000", "\u0001", "\uD800", "\uDFFF", "\uFFFE", "\r\n", "\r", "]]>", "&", "&amp;", "&nbsp;", "&#0;", "&#65;", "&#x41;", "<b>", "حفرة", "😀")), { maxLength: 8 })
  .map((parts) => parts.join(""));

describe("Open311 documents", () => {
  it("writes a list the way the specification shows it, with exactly our declaration", () => {
    const xml = toXml("service_requests", [request()]);
    expect(xml.startsWith(`${XML_DECLARATION}<service_requests><request><service_request_id>10427</service_request_id><status>open</status><status_notes/>`)).toBe(true);
    expect(xml).toContain("<lat>33.8125</lat><long>35.8875</long><media_url/></request></service_requests>");
    expect(JSON.parse(toJson("service_requests", [request()]))).toEqual([request()]);
  });

  it("writes empty lists as empty wrappers in XML and [] in JSON", () => {
    expect(toXml("services", [])).toBe(`${XML_DECLARATION}<services/>`);
    expect(toJson("services", [])).toBe("[]");
    expect(sparkFromXml(toXml("service_definition", { service_code: "roads", attributes: [] })).value).toEqual({ service_code: "roads", attributes: [] });
  });

  it("nests discovery's endpoints and formats", () => {
    const discovery = {
      changeset: "2026-11-29T09:15:00+02:00",
      contact: "open311@example.org",
      key_service: "Ask the town hall",
      endpoints: [{ specification: "http://wiki.open311.org/GeoReport_v2", url: "https://x.example/open311/v2", changeset: "2026-11-29T09:15:00+02:00", type: "production" as const, formats: ["text/xml", "application/json"] }],
    };
    const xml = toXml("discovery", discovery);
    expect(xml).toContain("<endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification>");
    expect(xml).toContain("<formats><format>text/xml</format><format>application/json</format></formats>");
    expect(sparkFromXml(xml).value).toEqual(discovery);
  });

  it("keeps Arabic and markup-looking text as text", () => {
    const description = 'حفرة كبيرة قرب الكنيسة <script>alert("x")</script> & ]]> ١٢٣';
    const xml = toXml("service_requests", [request({ description })]);
    expect(xml).toContain("حفرة كبيرة قرب الكنيسة &lt;script&gt;");
    expect(xml).not.toContain("<script>");
    expect(sparkFromXml(xml).value).toEqual([request({ description })]);
  });

  it("any text reads back from XML and JSON alike, as cleanText makes it", () => {
    fc.assert(
      fc.property(awkwardText, (text) => {
        const xml = toXml("errors", [{ code: 400, description: text }]);
        parseOpen311Xml(xml);
        const cleaned = cleanText(text);
        expect(sparkFromXml(xml).value).toEqual([{ code: 400, description: cleaned === "" ? null : cleaned }]);
        expect(sameAsXml(JSON.parse(toJson("errors", [{ code: 400, description: text }])))).toEqual(sparkFromXml(xml).value);
      }),
    );
  });

  it.each(["&nbsp;", "&#0;", "&lt;", "&amp;", "AT&T;", "&#65;"])("writes %j as text, never as an entity", (text) => {
    const xml = toXml("errors", [{ code: 400, description: text }]);
    expect(xml).toContain(`<description>${text.replace(/&/g, "&amp;")}</description>`);
    expect(sparkFromXml(xml).value).toEqual([{ code: 400, description: text }]);
  });

  it.each([
    ["a control character", "a\u0001b", "ab"],
    ["a lone surrogate", "a\uD800b", "ab"],
    ["a non-character", "a\uFFFEb", "ab"],
    ["CR LF and CR", "a\r\nb\rc", "a\nb\nc"],
    ["tabs and emoji", "a\tb 😀", "a\tb 😀"],
  ])("cleanText: %s", (_, text, cleaned) => {
    expect(cleanText(text)).toBe(cleaned);
  });

  it("refuses values no document can hold: a bug, not an answer", () => {
    expect(() => toXml("service_requests", [request({ lat: Number.NaN })])).toThrow(TypeError);
    expect(() => toJson("service_requests", [{ ...request(), media_url: undefined } as unknown as O311Request])).toThrow(TypeError);
    expect(() => toXml("service_requests", [{ ...request(), "bad name": "x" } as unknown as O311Request])).toThrow(TypeError);
  });
});
