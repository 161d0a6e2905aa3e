import { z } from "zod";
import type { CategoryView } from "../conversation/types.js";

const Keywords = z.array(z.string());

/** The columns of a Category row the conversation sees; any query layer that reads categories uses this. */
export interface CategoryRow {
  code: string;
  nameAr: string;
  nameEn: string;
  /** JSON array of words and phrases, as staff saved it. */
  keywords: string;
  needsLocation: boolean;
  childRelated: boolean;
}

/** A category row as the conversation sees it. */
export function categoryView(row: CategoryRow): CategoryView {
  return {
    code: row.code,
    name: { ar: row.nameAr, en: row.nameEn },
    // Staff will edit keywords: a malformed list disables matching for that category, not the bot.
    keywords: Keywords.catch([]).parse(safeJson(row.keywords)),
    needsLocation: row.needsLocation,
    childRelated: row.childRelated,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The version of a municipality's categories, from the id and `updatedAt` of every one of them
 * (active or not), in id order. `updatedAt` is set by Prisma on create, update and updateMany (not
 * by the database: a write through another layer must set it). Unlike COUNT and MAX(updatedAt),
 * it also changes when an instance whose clock is behind edits a category that is not the newest,
 * or when two categories are edited within the same millisecond.
 */
export function categoriesVersion(rows: readonly { id: number; updatedAt: Date }[]): string {
  return rows.map((row) => `${row.id}@${row.updatedAt.getTime()}`).join(",");
}

/**
 * Where a `CategoryCache` reads one municipality's categories: `version()` is a cheap query whose
 * answer changes whenever a category is created, edited or removed; `load()` reads them all.
 */
export interface CategorySource {
  version(): Promise<string>;
  load(): Promise<CategoryView[]>;
}

interface Entry {
  version: string;
  categories: Promise<CategoryView[]>;
}

/**
 * The categories of each municipality, kept per process (one cache for the inbox and the staff
 * pages). Every `get` asks its source for the version and reloads only when it changed, so an
 * edit by this process or by another instance on the same database is seen by the next message.
 * While the version holds, `get` returns the very same frozen array and objects: understand's
 * phrase cache, keyed by each keywords array, then tokenises keywords once per load. Concurrent
 * gets of one version share one load. Staff edits also call `invalidate`, for an edit that
 * leaves the version unchanged (the same category saved twice within a millisecond).
 */
export class CategoryCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by `invalidate`: a load that started before it is not kept. */
  private generation = 0;

  async get(municipalityId: string, source: CategorySource): Promise<CategoryView[]> {
    const generation = this.generation;
    const version = await source.version();
    const cached = this.entries.get(municipalityId);
    if (cached && cached.version === version) {
      // The load of another message: if its transaction failed under it, this message loads for itself.
      return cached.categories.catch(() => this.load(municipalityId, version, source, generation));
    }
    return this.load(municipalityId, version, source, generation);
  }

  /** Forgets a municipality's categories: the next `get` loads them again. */
  invalidate(municipalityId: string): void {
    this.generation++;
    this.entries.delete(municipalityId);
  }

  private load(municipalityId: string, version: string, source: CategorySource, generation: number): Promise<CategoryView[]> {
    const categories = source.load().then(frozen);
    // A version read before an invalidation may describe the categories before the edit.
    if (generation !== this.generation) return categories;
    const entry: Entry = { version, categories };
    this.entries.set(municipalityId, entry);
    categories.catch(() => {
      if (this.entries.get(municipalityId) === entry) this.entries.delete(municipalityId);
    });
    return categories;
  }
}

/** Shared between messages, so nobody may change them in place (that would also go unseen by understand's cache). */
function frozen(categories: CategoryView[]): CategoryView[] {
  for (const category of categories) {
    Object.freeze(category.keywords);
    Object.freeze(category.name);
    Object.freeze(category);
  }
  Object.freeze(categories);
  return categories;
}
