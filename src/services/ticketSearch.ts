import { Prisma } from "../generated/sqlite/client.js";
import type { Tx } from "../db/createDb.js";
import type { Actor } from "./staff.js";

/**
 * The letters folded before text is compared, as the bot folds a resident's words
 * (understand/normalizeText.ts): alef forms, alef maqsura, taa marbuta, hamza seats, tashkeel and
 * tatweel, Arabic-Indic and Persian digits. The same table folds the stored text (in SQL, with
 * REPLACE) and the words searched for (in JavaScript), so both meet in the middle.
 */
const FOLDS: ReadonlyArray<readonly [string, string]> = [
  ["أ", "ا"],
  ["إ", "ا"],
  ["آ", "ا"],
  ["ٱ", "ا"],
  ["ى", "ي"],
  ["ة", "ه"],
  ["ؤ", "و"],
  ["ئ", "ي"],
  // Tashkeel (fatha … sukun, maddah, hamza above and below: a decomposed أ is ا + U+0654), superscript alef, tatweel.
  ...Array.from({ length: 0x0655 - 0x064b + 1 }, (_, i) => [String.fromCharCode(0x064b + i), ""] as const),
  ["\u0670", ""],
  ["\u0640", ""],
  ...Array.from({ length: 10 }, (_, d) => [String.fromCharCode(0x0660 + d), String(d)] as const),
  ...Array.from({ length: 10 }, (_, d) => [String.fromCharCode(0x06f0 + d), String(d)] as const),
];

/** The searched words folded like the stored text: lower case, FOLDS applied. */
export function foldForSearch(text: string): string {
  let folded = text.toLowerCase();
  for (const [from, to] of FOLDS) folded = folded.replaceAll(from, to);
  return folded;
}

/** Our own constant characters as an SQL string literal (no user text ever goes through here). */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** `LOWER(REPLACE(REPLACE(… column …)))`: FOLDS applied in SQL, the same in SQLite and PostgreSQL. */
function folded(column: string): Prisma.Sql {
  let expression = `COALESCE(${column}, '')`;
  for (const [from, to] of FOLDS) expression = `REPLACE(${expression}, ${literal(from)}, ${literal(to)})`;
  return Prisma.raw(`LOWER(${expression})`);
}

const DESCRIPTION = folded('t."description"');
const ADDRESS = folded('t."addressText"');
const PROFILE_NAME = folded('r."profileName"');
const MESSAGE_BODY = folded('m."body"');

/** At most this many tickets match one search (the newest): enough for any page of the queue. */
export const MAX_SEARCH_MATCHES = 1000;
const LIMIT = Prisma.raw(String(MAX_SEARCH_MATCHES));

/** `%`, `_` and the escape character itself, searched for as themselves. */
const likeEscaped = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The ids of the tickets an actor may see whose description, address, messages (either way) or
 * resident's WhatsApp profile name contain `q`, folded like the bot folds Arabic ("حفره" finds
 * "حفرة", "اسعاف" finds "إسعاف"), case aside; `%` and `_` mean themselves. The newest
 * MAX_SEARCH_MATCHES at most; none for a query that folds to nothing. Parameters only: `q` never
 * becomes SQL.
 */
export async function searchTicketIds(tx: Tx, actor: Actor, q: string): Promise<number[]> {
  const words = foldForSearch(q.trim());
  if (words === "") return [];
  if (actor.role !== "admin" && actor.departments.length === 0) return [];
  const pattern = `%${likeEscaped(words)}%`;
  const departments = actor.role === "admin" ? Prisma.empty : Prisma.sql`AND t."department" IN (${Prisma.join(actor.departments)})`;
  const rows = await tx.$queryRaw<Array<{ id: number | bigint }>>`
    SELECT t."id" AS "id"
    FROM "Ticket" t
    LEFT JOIN "Resident" r ON r."id" = t."residentId"
    WHERE t."municipalityId" = ${actor.municipalityId} ${departments}
      AND (
        ${DESCRIPTION} LIKE ${pattern} ESCAPE '\\'
        OR ${ADDRESS} LIKE ${pattern} ESCAPE '\\'
        OR ${PROFILE_NAME} LIKE ${pattern} ESCAPE '\\'
        OR EXISTS (SELECT 1 FROM "Message" m WHERE m."ticketId" = t."id" AND ${MESSAGE_BODY} LIKE ${pattern} ESCAPE '\\')
      )
    ORDER BY t."id" DESC
    LIMIT ${LIMIT}`;
  return rows.map((row) => Number(row.id));
}
