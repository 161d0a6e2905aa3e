import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Db } from "../db/createDb.js";
import { REPO_ROOT } from "../lib/paths.js";

const CANNED_REPLIES_FILE = path.join(REPO_ROOT, "seed", "cannedReplies.json");

// The same limits as the admin form (cannedRepliesAdmin.ts).
const Text = z.object({ title: z.string().trim().min(1).max(80), body: z.string().trim().min(1).max(1600) });
const SeedCannedReply = z.object({
  /** A category code: offered on that category's tickets only. Null: on every ticket. */
  category: z.string().nullable(),
  sortOrder: z.number().int().min(0).max(100_000),
  ar: Text,
  en: Text,
});

/** The canned replies shipped in seed/cannedReplies.json, each in Arabic and English, validated. */
export function shippedCannedReplies(file = CANNED_REPLIES_FILE) {
  return z.array(SeedCannedReply).parse(JSON.parse(readFileSync(file, "utf8")));
}

/**
 * Gives a town the shipped canned replies (seed/cannedReplies.json) in both languages — only when
 * it has none at all. Start-up calls it for a new town only (the one whose categories it just
 * seeded), so the replies an admin wrote, edited or deleted are never touched again. A reply for a
 * category the town does not have is skipped. Returns how many were inserted.
 */
export async function seedCannedReplies(db: Db, municipalityId: string): Promise<number> {
  const shipped = shippedCannedReplies();
  return db.$transaction(async (tx) => {
    if ((await tx.cannedReply.count({ where: { municipalityId } })) > 0) return 0;
    const categories = await tx.category.findMany({ where: { municipalityId }, select: { id: true, code: true } });
    const categoryIds = new Map(categories.map((c) => [c.code, c.id]));
    const rows = shipped.flatMap((reply) => {
      const categoryId = reply.category === null ? null : categoryIds.get(reply.category);
      if (categoryId === undefined) return [];
      return (["ar", "en"] as const).map((locale) => ({ municipalityId, categoryId, locale, sortOrder: reply.sortOrder, title: reply[locale].title, body: reply[locale].body }));
    });
    await tx.cannedReply.createMany({ data: rows });
    return rows.length;
  });
}

/** What a canned reply's placeholders stand for on one ticket, in the reply's language. */
export interface CannedReplyValues {
  reference: number;
  /** The ticket's category name in the reply's language (or a word for "no category"). */
  category: string;
}

/**
 * A canned reply's text for one ticket: `{reference}` and `{category}` replaced by the ticket's
 * values. Any other `{…}` is left as written, for staff to see and fix before sending.
 */
export function fillCannedReply(body: string, values: CannedReplyValues): string {
  return body.replace(/\{(reference|category)\}/g, (_match, name: "reference" | "category") => (name === "reference" ? String(values.reference) : values.category));
}
