import type { AreaRecord, PlaceRecord } from "./placeTypes.js";

/** A municipality's places and areas, as the geocoding of requests reads them. */
export interface PlaceSet {
  readonly places: readonly PlaceRecord[];
  readonly areas: readonly AreaRecord[];
}

/**
 * Where a `PlaceCache` reads one municipality's places and areas: `version()` is a cheap query whose
 * answer changes whenever one is created, edited or removed; `load()` reads them all.
 */
export interface PlaceSource {
  version(): Promise<string>;
  load(): Promise<PlaceSet>;
}

interface Entry {
  version: string;
  set: Promise<PlaceSet>;
}

/**
 * The places and areas of each municipality, kept per process (like `CategoryCache`). Read only
 * when a ticket is filed, not on every message. Every `get` asks its source for the version and
 * reloads only when it changed, so an import or an admin's edit, by this process or another
 * instance, is seen by the next ticket. Concurrent gets of one version share one load. The admin
 * pages and the import also call `invalidate`, for an edit the version cannot see.
 */
export class PlaceCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by `invalidate`: a load that started before it is not kept. */
  private generation = 0;

  async get(municipalityId: string, source: PlaceSource): Promise<PlaceSet> {
    const generation = this.generation;
    const version = await source.version();
    const cached = this.entries.get(municipalityId);
    if (cached && cached.version === version) {
      // The load of another message: if its transaction failed under it, this one loads for itself.
      return cached.set.catch(() => this.load(municipalityId, version, source, generation));
    }
    return this.load(municipalityId, version, source, generation);
  }

  /** Forgets a municipality's places and areas: the next `get` loads them again. */
  invalidate(municipalityId: string): void {
    this.generation++;
    this.entries.delete(municipalityId);
  }

  private load(municipalityId: string, version: string, source: PlaceSource, generation: number): Promise<PlaceSet> {
    const set = source.load().then(frozen);
    if (generation !== this.generation) return set;
    const entry: Entry = { version, set };
    this.entries.set(municipalityId, entry);
    set.catch(() => {
      if (this.entries.get(municipalityId) === entry) this.entries.delete(municipalityId);
    });
    return set;
  }
}

/** Shared between messages, so nobody may change them in place. */
function frozen(set: PlaceSet): PlaceSet {
  for (const place of set.places) {
    Object.freeze(place.aliases);
    Object.freeze(place);
  }
  for (const area of set.areas) Object.freeze(area);
  return Object.freeze({ places: Object.freeze([...set.places]), areas: Object.freeze([...set.areas]) });
}
