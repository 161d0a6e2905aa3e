import { z } from "zod";
import type { Locale } from "../../conversation/types.js";
import type { Db } from "../../db/createDb.js";
import { FINANCE_DEPARTMENT } from "../accountStaff.js";
import { ATTRIBUTE_DATATYPES, attributeDatatypeOf, attributeValuesOf, LIST_DATATYPES } from "./attributes.js";
import type { O311Attribute, O311Service, O311ServiceDefinition } from "./types.js";

/**
 * The services side of Open311 GeoReport v2: the list of services (the town's categories), one
 * service's definition (its questions), and when either last changed. A category is served when it
 * is active and not private; deactivating one removes only it, and the others keep their codes and
 * their order (`sortOrder`, then id).
 */

/** FixMyStreet reads these `keywords` tokens as instructions (PopulateServiceList.pm): never publish them. */
const RESERVED_KEYWORDS = new Set(["private", "inactive", "staff", "waste_only"]);
/** Enough for a search box; the bot's full list (Arabizi spellings included) stays in the town hall. */
export const MAX_PUBLISHED_KEYWORDS = 20;

const KeywordList = z.array(z.string()).catch([]);

/**
 * A category's keywords (JSON array, as staff saved them) in a form other tools can read: commas
 * inside a keyword become spaces (clients split the list on ","), FixMyStreet's reserved tokens and
 * repeats are dropped, at most `MAX_PUBLISHED_KEYWORDS`, joined with ", "; null when none is left.
 */
export function publishableKeywords(json: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const raw of KeywordList.parse(parsed)) {
    const keyword = raw.replace(/[,،]/g, " ").replace(/\s+/g, " ").trim();
    const folded = keyword.toLowerCase();
    if (keyword === "" || RESERVED_KEYWORDS.has(folded) || seen.has(folded)) continue;
    seen.add(folded);
    kept.push(keyword);
    if (kept.length === MAX_PUBLISHED_KEYWORDS) break;
  }
  return kept.length > 0 ? kept.join(", ") : null;
}

const localText = (row: { nameAr: string; nameEn: string }, locale: Locale) => (locale === "ar" ? row.nameAr : row.nameEn);
const localDescription = (row: { descriptionAr: string; descriptionEn: string }, locale: Locale) => {
  const text = (locale === "ar" ? row.descriptionAr : row.descriptionEn).trim();
  return text === "" ? null : text;
};

/** Attributes a client can be asked: active, with a datatype we know. */
const answerable = { active: true, datatype: { in: [...ATTRIBUTE_DATATYPES] } };

/**
 * services.{xml,json}: the active, non-private categories of a municipality in menu order, named
 * and described in `locale`, grouped by their department's name (its code when the department
 * row is missing). `metadata` says whether GET services/{code} has questions to show.
 */
export async function listServices(db: Db, municipalityId: string, locale: Locale): Promise<O311Service[]> {
  const [categories, departments] = await Promise.all([
    db.category.findMany({
      where: { municipalityId, active: true, isPrivate: false, department: { not: FINANCE_DEPARTMENT } },
      orderBy: [{ sortOrder: "asc" }, { id: "asc" }],
      select: {
        code: true,
        nameAr: true,
        nameEn: true,
        descriptionAr: true,
        descriptionEn: true,
        keywords: true,
        department: true,
        attributes: { where: answerable, select: { id: true }, take: 1 },
      },
    }),
    db.department.findMany({ where: { municipalityId }, select: { code: true, nameAr: true, nameEn: true } }),
  ]);
  const departmentNames = new Map(departments.map((d) => [d.code, localText(d, locale)]));
  return categories.map((c) => ({
    service_code: c.code,
    service_name: localText(c, locale),
    description: localDescription(c, locale),
    metadata: c.attributes.length > 0,
    type: "realtime",
    keywords: publishableKeywords(c.keywords),
    group: departmentNames.get(c.department) ?? c.department,
  }));
}

/**
 * services/{code}.{xml,json}: the questions of one served category, in the order staff set
 * (`sortOrder`, then id) numbered 1..n, in `locale`. Null for a code that is unknown, inactive or
 * private: the caller answers 404 for all three alike.
 */
export async function serviceDefinition(db: Db, municipalityId: string, code: string, locale: Locale): Promise<O311ServiceDefinition | null> {
  const category = await db.category.findFirst({
    where: { municipalityId, code, active: true, isPrivate: false, department: { not: FINANCE_DEPARTMENT } },
    select: {
      code: true,
      attributes: {
        where: answerable,
        orderBy: [{ sortOrder: "asc" }, { id: "asc" }],
        select: { code: true, datatype: true, required: true, descriptionAr: true, descriptionEn: true, values: true },
      },
    },
  });
  if (!category) return null;
  const attributes: O311Attribute[] = [];
  for (const row of category.attributes) {
    const datatype = attributeDatatypeOf(row.datatype);
    if (!datatype) continue;
    attributes.push({
      variable: true,
      code: row.code,
      datatype,
      required: row.required,
      datatype_description: null,
      order: attributes.length + 1,
      description: locale === "ar" ? row.descriptionAr : row.descriptionEn,
      values: LIST_DATATYPES.has(datatype) ? attributeValuesOf(row.values).map((v) => ({ key: v.key, name: locale === "ar" ? v.nameAr : v.nameEn })) : [],
    });
  }
  return { service_code: category.code, attributes };
}

/**
 * When the service list or a definition last changed: the latest `updatedAt` of the municipality's
 * categories (any, so deactivating or making one private moves it), their attributes and its
 * departments (group names). Saving an attribute also touches its category. The epoch when there
 * is nothing yet.
 */
export async function servicesChangeset(db: Db, municipalityId: string): Promise<Date> {
  const [categories, attributes, departments] = await Promise.all([
    db.category.aggregate({ where: { municipalityId }, _max: { updatedAt: true } }),
    db.categoryAttribute.aggregate({ where: { category: { municipalityId } }, _max: { updatedAt: true } }),
    db.department.aggregate({ where: { municipalityId }, _max: { updatedAt: true } }),
  ]);
  const times = [categories._max.updatedAt, attributes._max.updatedAt, departments._max.updatedAt].filter((d): d is Date => d !== null);
  return new Date(Math.max(0, ...times.map((d) => d.getTime())));
}
