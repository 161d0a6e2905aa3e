import { areaRecord, placeRecord, type AreaRecord } from "../../services/places/placeTypes.js";
import type { PlaceSource } from "../../services/places/placeCache.js";
import type { HotQ } from "./connect.js";
import { prepared } from "./prepared.js";

// One row each: how many, the highest id, the latest edit. Cheap on both dialects (no table scan
// beyond the municipality's rows, which are a few hundred at most).
const placeVersion = prepared((db, p: { municipalityId: string }) =>
  db
    .selectFrom("Place")
    .select((eb) => [eb.fn.countAll().as("count"), eb.fn.max("id").as("maxId"), eb.fn.max("updatedAt").as("maxUpdatedAt")])
    .where("municipalityId", "=", p.municipalityId),
);
const areaVersion = prepared((db, p: { municipalityId: string }) =>
  db
    .selectFrom("Area")
    .select((eb) => [eb.fn.countAll().as("count"), eb.fn.max("id").as("maxId"), eb.fn.max("updatedAt").as("maxUpdatedAt")])
    .where("municipalityId", "=", p.municipalityId),
);
const allPlaces = prepared((db, p: { municipalityId: string }) =>
  db
    .selectFrom("Place")
    .select(["id", "municipalityId", "kind", "nameAr", "nameEn", "aliases", "childRelated", "latitude", "longitude", "source", "externalId"])
    .where("municipalityId", "=", p.municipalityId)
    .orderBy("id"),
);
const allAreas = prepared((db, p: { municipalityId: string }) =>
  db
    .selectFrom("Area")
    .select(["id", "municipalityId", "nameAr", "nameEn", "geometry", "childPopulation", "source", "externalId"])
    .where("municipalityId", "=", p.municipalityId)
    .orderBy("id"),
);

/** An aggregate as read back: a bigint string on PostgreSQL, a number or text on SQLite, a Date for timestamps. */
const part = (value: unknown) => (value instanceof Date ? String(value.getTime()) : String(value ?? "-"));

/**
 * A municipality's places and areas for the process's `PlaceCache`, read inside the message's
 * transaction. The version is each table's count, highest id and latest `updatedAt` (set by Prisma
 * on every create and update): an added, removed or edited place or area changes it. An edit that
 * would not (another instance's clock behind the newest row's) is what `PlaceCache.invalidate` is for.
 */
export function hotPlaceSource(q: HotQ, municipalityId: string): PlaceSource {
  return {
    version: async () => {
      const [places, areas] = [await placeVersion.first(q, { municipalityId }), await areaVersion.first(q, { municipalityId })];
      return [places?.count, places?.maxId, places?.maxUpdatedAt, areas?.count, areas?.maxId, areas?.maxUpdatedAt].map(part).join(":");
    },
    load: async () => ({
      places: (await allPlaces.all(q, { municipalityId })).map(placeRecord),
      areas: (await allAreas.all(q, { municipalityId })).map(areaRecord).filter((a): a is AreaRecord => a !== null),
    }),
  };
}
