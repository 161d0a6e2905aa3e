import { z } from "zod";
import type { Db } from "../../db/createDb.js";
import { areaRecord, PLACE_KINDS, placeRecord, type AreaGeometry, type AreaRecord, type PlaceRecord } from "./placeTypes.js";

/**
 * The places and areas of a municipality as the admin pages change them. Whoever keeps them in
 * memory (the landmark geocoder, the map) subscribes with `onPlacesChanged` and is told after every
 * change made in this process (the admin pages, an import, the demo samples).
 */

type Listener = (municipalityId: string) => void;
const listeners = new Set<Listener>();

/** Calls `listener(municipalityId)` after every change to places or areas; returns the unsubscribe. */
export function onPlacesChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tells the listeners; one that throws does not stop the others, nor the change. */
export function notifyPlacesChanged(municipalityId: string): void {
  for (const listener of [...listeners]) {
    try {
      listener(municipalityId);
    } catch {
      // a cache that failed to invalidate reloads on its own schedule
    }
  }
}

/** What an admin enters for a place. */
export const PlaceInput = z.object({
  kind: z.enum(PLACE_KINDS),
  nameAr: z.string().trim().min(1).max(200),
  nameEn: z.string().trim().min(1).max(200),
  aliases: z.array(z.string().trim().min(1).max(200)).max(50),
  childRelated: z.boolean(),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});
export type PlaceInput = z.infer<typeof PlaceInput>;

/** The places, by kind then Arabic name. */
export async function listPlaces(db: Db, municipalityId: string): Promise<PlaceRecord[]> {
  const rows = await db.place.findMany({ where: { municipalityId }, orderBy: [{ kind: "asc" }, { nameAr: "asc" }, { id: "asc" }] });
  return rows.map(placeRecord);
}

export async function findPlace(db: Db, municipalityId: string, id: number): Promise<PlaceRecord | null> {
  const row = await db.place.findFirst({ where: { id, municipalityId } });
  return row ? placeRecord(row) : null;
}

const placeColumns = (input: PlaceInput) => ({ ...input, aliases: JSON.stringify([...new Set(input.aliases)]) });

export async function createPlace(db: Db, municipalityId: string, input: PlaceInput, source = "manual"): Promise<PlaceRecord> {
  const row = await db.place.create({ data: { municipalityId, ...placeColumns(PlaceInput.parse(input)), source } });
  notifyPlacesChanged(municipalityId);
  return placeRecord(row);
}

/** False when there is no such place. */
export async function updatePlace(db: Db, municipalityId: string, id: number, input: PlaceInput): Promise<boolean> {
  const updated = await db.place.updateMany({ where: { id, municipalityId }, data: placeColumns(PlaceInput.parse(input)) });
  if (updated.count > 0) notifyPlacesChanged(municipalityId);
  return updated.count > 0;
}

/** Requests located by this place keep their coordinates; they lose the link to it. */
export async function deletePlace(db: Db, municipalityId: string, id: number): Promise<boolean> {
  const deleted = await db.place.deleteMany({ where: { id, municipalityId } });
  if (deleted.count > 0) notifyPlacesChanged(municipalityId);
  return deleted.count > 0;
}

/** An area as the admin list shows it: its geometry is null when the stored one cannot be read. */
export type AreaListItem = Omit<AreaRecord, "geometry"> & { geometry: AreaGeometry | null };

/** Every area (by Arabic name), also those whose geometry cannot be read, so they can be removed. */
export async function listAreas(db: Db, municipalityId: string): Promise<AreaListItem[]> {
  const rows = await db.area.findMany({ where: { municipalityId }, orderBy: [{ nameAr: "asc" }, { id: "asc" }] });
  return rows.map((row) => areaRecord(row) ?? { ...row, geometry: null });
}

/** The areas whose geometry is usable (point-in-polygon, the map). */
export async function usableAreas(db: Db, municipalityId: string): Promise<AreaRecord[]> {
  const rows = await db.area.findMany({ where: { municipalityId }, orderBy: { id: "asc" } });
  return rows.map(areaRecord).filter((a): a is AreaRecord => a !== null);
}

/** Sets (or clears, with null) the number of children living in an area. False when there is no such area. */
export async function setAreaChildPopulation(db: Db, municipalityId: string, id: number, childPopulation: number | null): Promise<boolean> {
  if (childPopulation !== null && (!Number.isInteger(childPopulation) || childPopulation < 0)) throw new RangeError("childPopulation must be a whole number of 0 or more");
  const updated = await db.area.updateMany({ where: { id, municipalityId }, data: { childPopulation } });
  if (updated.count > 0) notifyPlacesChanged(municipalityId);
  return updated.count > 0;
}

export async function deleteArea(db: Db, municipalityId: string, id: number): Promise<boolean> {
  const deleted = await db.area.deleteMany({ where: { id, municipalityId } });
  if (deleted.count > 0) notifyPlacesChanged(municipalityId);
  return deleted.count > 0;
}
