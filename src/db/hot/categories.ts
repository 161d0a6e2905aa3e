import { categoriesVersion, categoryView, type CategorySource } from "../../services/categories.js";
import type { HotQ } from "./connect.js";

/**
 * A municipality's categories for the process's `CategoryCache`, read inside the message's
 * transaction. The version lists every category's id and `updatedAt` (as `prismaCategorySource`
 * does, so edits by staff pages or by another instance are seen by the next message).
 */
export function hotCategorySource(q: HotQ, municipalityId: string): CategorySource {
  return {
    version: async () => {
      const rows = await q.selectFrom("Category").select(["id", "updatedAt"]).where("municipalityId", "=", municipalityId).orderBy("id").execute();
      return categoriesVersion(rows);
    },
    load: async () => {
      const rows = await q
        .selectFrom("Category")
        .select(["code", "nameAr", "nameEn", "keywords", "needsLocation", "childRelated"])
        .where("municipalityId", "=", municipalityId)
        .where("active", "=", true)
        .orderBy("sortOrder")
        .orderBy("id")
        .execute();
      return rows.map(categoryView);
    },
  };
}
