import { create } from "xmlbuilder2";
import type { O311Created, O311Request, O311Service, O311ServiceDefinition, O311Update } from "./types.js";

/** Service Discovery (discovery.{xml,json}): where the endpoint is and how to get a key. */
export interface O311Discovery {
  changeset: string;
  contact: string;
  key_service: string;
  endpoints: Array<{
    specification: string;
    url: string;
    changeset: string;
    type: "production" | "test";
    /** MIME types: "text/xml", "application/json". */
    formats: string[];
  }>;
}

/** One entry of an `<errors>` answer; `code` repeats the HTTP status, as the specification does. */
export interface O311Error {
  code: number;
  description: string;
}

/** Every document the server writes, by the name of its XML root element. */
export interface O311Documents {
  discovery: O311Discovery;
  services: O311Service[];
  service_definition: O311ServiceDefinition;
  /** GET requests answers the requests; POST requests answers the one it filed, under the same root. */
  service_requests: O311Request[] | O311Created[];
  /** mySociety's extension (servicerequestupdates), which FixMyStreet follows. */
  service_request_updates: O311Update[];
  errors: O311Error[];
}
export type O311Root = keyof O311Documents;

/**
 * The element each repeated item gets inside its wrapper: XML writes `<services><service>…`,
 * JSON writes the wrapper as an array (the specification's "Spark convention"). A list under any
 * other name is a programming error.
 */
export const O311_LIST_ITEMS: Readonly<Record<string, string>> = {
  services: "service",
  service_requests: "request",
  errors: "error",
  endpoints: "endpoint",
  formats: "format",
  attributes: "attribute",
  values: "value",
  service_request_updates: "request_update",
};

// XML 1.0's Char production: everything else (C0 controls but tab and line breaks, lone
// surrogates, U+FFFE/U+FFFF) cannot be written in XML at all, not even as a character reference.
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * Text as both formats carry it: characters XML cannot hold removed, and line breaks as "\n"
 * (an XML parser turns a raw "\r" into "\n", so JSON does the same and both say the same thing).
 */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(NOT_XML, "");
}

/**
 * An Open311 document as XML: `<?xml version="1.0" encoding="utf-8"?>`, one root element, built
 * element by element with xmlbuilder2, so resident text is only ever escaped element content.
 * `null` is an empty element (FixMyStreet reads it as undefined), booleans are "true"/"false".
 */
export function toXml<R extends O311Root>(root: R, value: O311Documents[R]): string {
  const doc = create({ version: "1.0", encoding: "utf-8", invalidCharReplacement: "" });
  writeElement(doc, root, cleanValue(value, root));
  return doc.end({ prettyPrint: false });
}

/** The same document as JSON, with the same names: lists are arrays, `null` stays null. */
export function toJson<R extends O311Root>(root: R, value: O311Documents[R]): string {
  return JSON.stringify(cleanValue(value, root));
}

type Clean = string | number | boolean | null | Clean[] | { [name: string]: Clean };

const ELEMENT_NAME = /^[a-z][a-z_]*$/;

/**
 * A checked copy of a value: strings cleaned, numbers finite, names plain element names, lists only
 * where an item name is known. Anything else (undefined, NaN, a Date) throws: a bug, not a document.
 */
function cleanValue(value: unknown, name: string): Clean {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
      return cleanText(value);
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`Open311 ${name}: ${value} is not a number a document can hold`);
      return value;
    case "object": {
      if (Array.isArray(value)) {
        const item = O311_LIST_ITEMS[name];
        if (!item) throw new TypeError(`Open311 ${name}: no item name known for a list here`);
        return value.map((v: unknown) => cleanValue(v, item));
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) throw new TypeError(`Open311 ${name}: only plain objects can be written`);
      const copy: { [name: string]: Clean } = {};
      for (const [key, v] of Object.entries(value)) {
        if (!ELEMENT_NAME.test(key)) throw new TypeError(`Open311 ${name}: ${JSON.stringify(key)} is not an element name`);
        copy[key] = cleanValue(v, key);
      }
      return copy;
    }
    default:
      throw new TypeError(`Open311 ${name}: a ${typeof value} cannot be written`);
  }
}

type XmlNode = ReturnType<typeof create>;

function writeElement(parent: XmlNode, name: string, value: Clean): void {
  const element = parent.ele(name);
  if (value === null) return;
  if (Array.isArray(value)) {
    const item = O311_LIST_ITEMS[name]!;
    for (const v of value) writeElement(element, item, v);
  } else if (typeof value === "object") {
    for (const [key, v] of Object.entries(value)) writeElement(element, key, v);
  } else if (value !== "") {
    element.txt(ampersandsEscaped(String(value)));
  }
}

/**
 * xmlbuilder2 (4.0.3) escapes "<" and ">" in text but leaves an "&" alone when what follows looks
 * like an entity ("&nbsp;", "&#0;"): resident text would then reach clients altered ("&lt;" read
 * as "<") or ill-formed (an undefined entity, a reference to NUL). Escaping every "&" first leaves
 * it only "&amp;", which it keeps as it is. test/services/open311/document.test.ts checks that any
 * text reads back unchanged, so a release that changes this is noticed.
 */
function ampersandsEscaped(text: string): string {
  return text.replace(/&/g, "&amp;");
}
