import { z } from "zod";
import { assertNever } from "../../lib/assertNever.js";
import type { O311Datatype } from "./types.js";

/**
 * The questions a category asks Open311 clients (GeoReport v2 "attributes"): how a definition is
 * checked (the category admin and the seed use the same schema) and how a client's answers are
 * read (`readAttributeAnswers`, for filing). Stored in `CategoryAttribute`, `values` as JSON.
 */

export const ATTRIBUTE_DATATYPES = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"] as const satisfies readonly O311Datatype[];
export const LIST_DATATYPES: ReadonlySet<O311Datatype> = new Set(["singlevaluelist", "multivaluelist"]);
/** A category asks at most this many questions (active or not: codes are never reused). */
export const MAX_ATTRIBUTES_PER_CATEGORY = 30;
export const MAX_ATTRIBUTE_VALUES = 50;
export const ATTRIBUTE_CODE = /^[a-z][a-z0-9_]{0,39}$/;
export const VALUE_KEY = /^[a-z0-9_]{1,40}$/;
export const MAX_STRING_ANSWER = 200;
export const MAX_TEXT_ANSWER = 2000;
/** A number as people write it, with room for decimals: never a 60 kB string of zeros. */
const MAX_NUMBER_TEXT = 40;

/**
 * Error messages are short problem codes ("code", "values.count"): the admin turns them into the
 * staff member's language (locales/*\/open311Admin.json, `errors.*`), the seed fails on them.
 */
export const AttributeValue = z.object({
  /** Sent by clients as the answer: stable once published (rename the names, not the key). */
  key: z.string().regex(VALUE_KEY, "values.key"),
  nameAr: z.string().trim().min(1, "values.name").max(100, "values.name"),
  nameEn: z.string().trim().min(1, "values.name").max(100, "values.name"),
});
export type AttributeValue = z.infer<typeof AttributeValue>;

/** One question of a category, as staff define it (its order and whether it is active are kept apart). */
export const AttributeDefinition = z
  .object({
    code: z.string().regex(ATTRIBUTE_CODE, "code"),
    datatype: z.enum(ATTRIBUTE_DATATYPES, { error: "datatype" }),
    required: z.boolean(),
    descriptionAr: z.string().trim().min(1, "descriptionAr").max(300, "descriptionAr"),
    descriptionEn: z.string().trim().min(1, "descriptionEn").max(300, "descriptionEn"),
    values: z.array(AttributeValue).default([]),
  })
  .superRefine((definition, ctx) => {
    const isList = LIST_DATATYPES.has(definition.datatype);
    if (!isList && definition.values.length > 0) ctx.addIssue({ code: "custom", path: ["values"], message: "values.notList" });
    if (isList && (definition.values.length < 1 || definition.values.length > MAX_ATTRIBUTE_VALUES)) ctx.addIssue({ code: "custom", path: ["values"], message: "values.count" });
    const keys = definition.values.map((v) => v.key);
    if (new Set(keys).size !== keys.length) ctx.addIssue({ code: "custom", path: ["values"], message: "values.duplicate" });
  });
export type AttributeDefinition = z.infer<typeof AttributeDefinition>;

const StoredValues = z.array(AttributeValue);

/** A `CategoryAttribute.values` column read back; a malformed one reads as no values (the question is then unanswerable, not a crash). */
export function attributeValuesOf(json: string): AttributeValue[] {
  try {
    return StoredValues.catch([]).parse(JSON.parse(json));
  } catch {
    return [];
  }
}

/** A stored datatype we know, or null (a row written by hand with something else). */
export function attributeDatatypeOf(stored: string): O311Datatype | null {
  return (ATTRIBUTE_DATATYPES as readonly string[]).includes(stored) ? (stored as O311Datatype) : null;
}

/** What `readAttributeAnswers` needs of a question: the category's active ones, in order. */
export interface AttributeRule {
  code: string;
  datatype: O311Datatype;
  required: boolean;
  values: readonly { key: string }[];
}

export interface AttributeAnswer {
  code: string;
  values: string[];
}

export type AttributeAnswers = { ok: true; answers: AttributeAnswer[] } | { ok: false; problems: string[] };

/**
 * A client's answers (`attribute[code]=v`, repeated or `attribute[code][]=v`, gathered by the HTTP
 * layer into code → values) checked against the category's questions. Empty values count as absent,
 * as the specification says of optional arguments. Answers come back in the questions' order,
 * trimmed, list answers deduplicated; otherwise every problem found, in English (Open311 error
 * descriptions), naming the attribute.
 */
export function readAttributeAnswers(defs: readonly AttributeRule[], raw: ReadonlyMap<string, readonly string[]>): AttributeAnswers {
  const problems: string[] = [];
  const known = new Map(defs.map((d) => [d.code, d]));
  for (const code of raw.keys()) {
    if (!known.has(code)) problems.push(`unknown attribute ${shown(code)}`);
  }
  const answers: AttributeAnswer[] = [];
  for (const def of defs) {
    const given = (raw.get(def.code) ?? []).map((v) => v.trim()).filter((v) => v !== "");
    if (given.length === 0) {
      if (def.required) problems.push(`attribute ${def.code} is required`);
      continue;
    }
    const checked = readAnswer(def, given);
    if (typeof checked === "string") problems.push(checked);
    else answers.push({ code: def.code, values: checked });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, answers };
}

/** The answer's values, or what is wrong with them. */
function readAnswer(def: AttributeRule, given: string[]): string[] | string {
  const keys = def.values.map((v) => v.key);
  if (def.datatype === "multivaluelist") {
    const unknown = given.filter((v) => !keys.includes(v));
    if (unknown.length > 0) return `attribute ${def.code} has unknown values (allowed: ${keys.join(", ")})`;
    return [...new Set(given)];
  }
  if (given.length > 1) return `attribute ${def.code} takes one value`;
  const value = given[0]!;
  switch (def.datatype) {
    case "singlevaluelist":
      return keys.includes(value) ? [value] : `attribute ${def.code} must be one of: ${keys.join(", ")}`;
    case "number":
      return value.length <= MAX_NUMBER_TEXT && isFiniteNumber(value) ? [value] : `attribute ${def.code} must be a number`;
    case "datetime":
      return isW3cDate(value) ? [value] : `attribute ${def.code} must be a date (YYYY-MM-DD) or a date and time with an offset (2026-11-29T09:15:00+02:00)`;
    case "string":
      return !/[\r\n]/.test(value) && codePoints(value) <= MAX_STRING_ANSWER ? [value] : `attribute ${def.code} must be one line of at most ${MAX_STRING_ANSWER} characters`;
    case "text":
      return codePoints(value) <= MAX_TEXT_ANSWER ? [value] : `attribute ${def.code} must be at most ${MAX_TEXT_ANSWER} characters`;
    default:
      return assertNever(def.datatype);
  }
}

/** A decimal number as people and tools write it (no hex, no Infinity, no NaN). */
function isFiniteNumber(value: string): boolean {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value) && Number.isFinite(Number(value));
}

const W3C_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/** A calendar date, or a date and time with its offset (a time without one would be ambiguous). */
function isW3cDate(value: string): boolean {
  const m = W3C_DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  if (m[4] === undefined) return true;
  const inRange = (text: string | undefined, max: number) => text === undefined || Number(text) <= max;
  return inRange(m[4], 23) && inRange(m[5], 59) && inRange(m[6], 59) && inRange(m[8], 14) && inRange(m[9], 59);
}

const codePoints = (text: string) => [...text].length;

/** An unknown code as the client sent it, short enough to quote back. */
function shown(code: string): string {
  return codePoints(code) > 40 ? `${[...code].slice(0, 40).join("")}…` : code;
}
