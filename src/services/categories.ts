import { z } from "zod";
import type { CategoryView } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";

const Keywords = z.array(z.string());

/** Active categories of a municipality in menu order, as the conversation sees them. */
export async function activeCategories(tx: Tx, municipalityId: string): Promise<CategoryView[]> {
  const rows = await tx.category.findMany({
    where: { municipalityId, active: true },
    orderBy: [{ sortOrder: "asc" }, { id: "asc" }],
  });
  return rows.map((row) => ({
    code: row.code,
    name: { ar: row.nameAr, en: row.nameEn },
    // Staff will edit keywords: a malformed list disables matching for that category, not the bot.
    keywords: Keywords.catch([]).parse(safeJson(row.keywords)),
    needsLocation: row.needsLocation,
    childRelated: row.childRelated,
  }));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
