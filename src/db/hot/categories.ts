import { categoriesVersion, categoryView, type CategorySource } from "../../services/categories.js";
import type { HotQ } from "./connect.js";
import { prepared } from "./prepared.js";

const categoryVersions = prepared((db, p: { municipalityId: string }) =>
  db.selectFrom("Category").select(["id", "updatedAt"]).where("municipalityId", "=", p.municipalityId).orderBy("id"),
);
const activeCategories = prepared((db, p: { municipalityId: string }) =>
  db
    .selectFrom("Category")
    .select(["code", "nameAr", "nameEn", "keywords", "needsLocation", "childRelated"])
    .where("municipalityId", "=", p.municipalityId)
    .where("active", "=", true)
    .orderBy("sortOrder")
    .orderBy("id"),
);

/**
 * A municipality's categories for the process's `CategoryCache`, read inside the message's
 * transaction. The version lists every category's id and `updatedAt` (see
 * `categoriesVersion`), so edits by staff pages or by another instance are seen by the next message.
 */
export function hotCategorySource(q: HotQ, municipalityId: string): CategorySource {
  return {
    version: async () => categoriesVersion(await categoryVersions.all(q, { municipalityId })),
    load: async () => (await activeCategories.all(q, { municipalityId })).map(categoryView),
  };
}
