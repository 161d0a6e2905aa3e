import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { Express } from "express";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import request, { type Response } from "supertest";
import { expect } from "vitest";

/**
 * Helpers for the Open311 tests: the published GeoReport v2 JSON Schemas (and our own for what
 * they do not cover) in ajv, a strict reader of our XML, and the conversion of that XML to the JSON
 * shape, so every endpoint's XML and JSON can be compared and one schema run covers both.
 */

const SCHEMA_DIR = path.join(import.meta.dirname, "../fixtures/open311/schema");

/** A datetime as Open311 clients get it from us: seconds, an offset, never milliseconds. */
export const NO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
/** The only two content types the Open311 server may answer with (never HTML). */
export const OPEN311_CONTENT_TYPE = /^(text\/xml|application\/json); charset=utf-8$/;
export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

export type SchemaName = "discovery" | "errors" | "service" | "services" | "service-definition" | "request" | "requests" | "request-created" | "updates";

let compiled: Map<SchemaName, ValidateFunction> | null = null;

/**
 * ajv 8 with the fixture schemas: draft-07, formats from ajv-formats, `strictTypes: false` (the
 * published schemas put `minItems` and `required` where strict mode refuses them), request.json and
 * service.json registered under their file names so the list schemas' `$ref`s resolve.
 */
export function open311Schemas(): Map<SchemaName, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = new Ajv({ strictTypes: false, allErrors: true });
  addFormats.default(ajv);
  const load = (name: SchemaName) => JSON.parse(readFileSync(path.join(SCHEMA_DIR, `${name}.json`), "utf8")) as object;
  ajv.addSchema(load("request"), "request.json");
  ajv.addSchema(load("service"), "service.json");
  compiled = new Map<SchemaName, ValidateFunction>([
    ["request", ajv.getSchema("request.json")!],
    ["service", ajv.getSchema("service.json")!],
    ...(["discovery", "errors", "services", "service-definition", "requests", "request-created", "updates"] as const).map((name) => [name, ajv.compile({ $id: `${name}.json`, ...load(name) })] as [SchemaName, ValidateFunction]),
  ]);
  return compiled;
}

/**
 * Fails unless `body` is valid against the named schema, and — what the published schemas forget
 * to say — every item of every list of records is an object (`["x"]` passes requests.json).
 */
export function assertValid(name: SchemaName, body: unknown): void {
  const validate = open311Schemas().get(name)!;
  const ok = validate(body);
  expect(ok, `${name}: ${JSON.stringify(validate.errors, null, 1)}\n${JSON.stringify(body).slice(0, 2000)}`).toBe(true);
  assertRecordsAreObjects(body, name);
}

function assertRecordsAreObjects(value: unknown, where: string): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      expect(typeof item === "object" && item !== null && !Array.isArray(item), `${where}: a list item is not an object: ${JSON.stringify(item)}`).toBe(true);
      assertRecordsAreObjects(item, where);
    }
  } else if (typeof value === "object" && value !== null) {
    // `formats` is the one list of plain strings.
    for (const [key, v] of Object.entries(value)) if (key !== "formats") assertRecordsAreObjects(v, `${where}.${key}`);
  }
}

/** Wrapper element → the name of its repeated items (GeoReport v2 and Service Discovery). */
const LIST_ITEMS: Readonly<Record<string, string>> = {
  services: "service",
  service_requests: "request",
  errors: "error",
  endpoints: "endpoint",
  formats: "format",
  attributes: "attribute",
  values: "value",
  service_request_updates: "request_update",
};
const ITEM_NAMES = new Set(Object.values(LIST_ITEMS));
// Characters XML 1.0 cannot carry at all.
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Reads an Open311 XML answer strictly: exactly our declaration first, well-formed, one root
 * element, no character XML forbids. Returns the root's name and its content as fast-xml-parser
 * gives it (text untouched: no trimming, no number guessing; list items always arrays).
 */
export function parseOpen311Xml(xml: string): { root: string; content: unknown } {
  expect(xml.startsWith(XML_DECLARATION), `declaration: ${xml.slice(0, 60)}`).toBe(true);
  expect(NOT_XML.test(xml), "a character XML cannot hold").toBe(false);
  // fast-xml-parser's validator lets undefined entities ("&nbsp;") and references to forbidden
  // characters ("&#0;") through; an XML parser such as FixMyStreet's refuses the whole document.
  expect(xml.match(/&(?!(?:amp|lt|gt|quot|apos);|#\d+;|#x[0-9a-fA-F]+;)[^;\s]{0,20};?/g), "undefined entities or a bare &").toBeNull();
  for (const [, ref] of xml.matchAll(/&#(x[0-9a-fA-F]+|\d+);/g)) {
    const point = ref!.startsWith("x") ? parseInt(ref!.slice(1), 16) : Number(ref);
    expect(point <= 0x10ffff && !NOT_XML.test(String.fromCodePoint(point)), `&#${ref}; refers to a character XML cannot hold`).toBe(true);
  }
  const validation = XMLValidator.validate(xml);
  expect(validation, JSON.stringify(validation)).toBe(true);
  const tree = new XMLParser({ parseTagValue: false, trimValues: false, ignoreAttributes: true, ignoreDeclaration: true, isArray: (name) => ITEM_NAMES.has(name) }).parse(xml) as Record<string, unknown>;
  const roots = Object.keys(tree);
  expect(roots, "one root element").toHaveLength(1);
  const root = roots[0]!;
  expect(Array.isArray(tree[root]), "one root element").toBe(false);
  return { root, content: tree[root] };
}

/** Elements whose text is not a string in JSON, by `parent.name` or `name`. */
const TYPED: Readonly<Record<string, "number" | "integer" | "boolean">> = {
  lat: "number",
  long: "number",
  metadata: "boolean",
  variable: "boolean",
  required: "boolean",
  order: "integer",
  "error.code": "integer",
};

/**
 * The JSON an XML answer stands for, by the specification's "Spark convention": a wrapper of
 * repeated items is an array, other elements objects, text typed by element (lat/long numbers,
 * metadata/variable/required booleans, order and error codes integers). An empty element is null
 * — XML cannot tell "" from null, so compare with `sameAsXml(json)`.
 */
export function sparkFromXml(xml: string): { root: string; value: unknown } {
  const { root, content } = parseOpen311Xml(xml);
  return { root, value: convert(content, root, "") };
}

function convert(node: unknown, name: string, parent: string): unknown {
  const item = LIST_ITEMS[name];
  if (item) {
    if (node === "") return [];
    expect(typeof node === "object" && node !== null, `<${name}> holds only <${item}> elements`).toBe(true);
    const children = node as Record<string, unknown>;
    expect(Object.keys(children), `<${name}> holds only <${item}> elements`).toEqual([item]);
    return (children[item] as unknown[]).map((v) => convert(v, item, name));
  }
  if (typeof node === "object" && node !== null) {
    expect(Array.isArray(node), `<${name}> repeated`).toBe(false);
    return Object.fromEntries(Object.entries(node).map(([key, v]) => [key, convert(v, key, name)]));
  }
  expect(typeof node, `<${name}>`).toBe("string");
  const text = node as string;
  if (text === "") return null;
  switch (TYPED[`${parent}.${name}`] ?? TYPED[name]) {
    case "number":
      expect(text, `<${name}> is a number`).toMatch(/^-?\d+(\.\d+)?$/);
      return Number(text);
    case "integer":
      expect(text, `<${name}> is an integer`).toMatch(/^-?\d+$/);
      return Number(text);
    case "boolean":
      expect(["true", "false"], `<${name}> is true or false`).toContain(text);
      return text === "true";
    default:
      return text;
  }
}

/** A JSON answer as its XML would read back: empty strings are empty elements, hence null. */
export function sameAsXml(value: unknown): unknown {
  if (value === "") return null;
  if (Array.isArray(value)) return value.map(sameAsXml);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sameAsXml(v)]));
  return value;
}

export interface BothFormats {
  status: number;
  /** The parsed JSON answer. */
  json: unknown;
  /** The XML answer's text. */
  xml: string;
  jsonResponse: Response;
  xmlResponse: Response;
}

/**
 * GETs `${path}.json` and `${path}.xml` (the query, if any, after `?` in `path`) and checks what
 * every Open311 answer owes: the same status, the right content type, CORS open, the XML strict and
 * saying exactly what the JSON says, under the expected root element.
 */
export async function getBoth(app: Express, pathAndQuery: string, root: string, headers: Record<string, string> = {}): Promise<BothFormats> {
  const [pathname, query] = pathAndQuery.split("?") as [string, string | undefined];
  const get = (format: "json" | "xml") => {
    let req = request(app).get(`${pathname}.${format}${query ? `?${query}` : ""}`);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.buffer(true).parse((res, done) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => done(null, text));
    });
  };
  const [jsonResponse, xmlResponse] = await Promise.all([get("json"), get("xml")]);
  expect(jsonResponse.status).toBe(xmlResponse.status);
  expect(jsonResponse.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(xmlResponse.headers["content-type"]).toBe("text/xml; charset=utf-8");
  for (const res of [jsonResponse, xmlResponse]) expect(res.headers["access-control-allow-origin"]).toBe("*");
  const jsonText = jsonResponse.body as string;
  const xml = xmlResponse.body as string;
  const json: unknown = JSON.parse(jsonText);
  const fromXml = sparkFromXml(xml);
  expect(fromXml.root).toBe(root);
  expect(fromXml.value).toEqual(sameAsXml(json));
  return { status: jsonResponse.status, json, xml, jsonResponse, xmlResponse };
}

/** Every datetime field of a record or list of records, checked against NO_MS. */
export function expectNoMilliseconds(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(expectNoMilliseconds);
  if (typeof value !== "object" || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    if ((key.endsWith("_datetime") || key === "changeset") && v !== null) expect(v, key).toMatch(NO_MS);
    else expectNoMilliseconds(v);
  }
}
