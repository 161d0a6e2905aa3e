import { createHash, randomBytes } from "node:crypto";
import type { Db, Tx } from "../../db/createDb.js";
import { ALL_CONTROLS, BIDI_OVERRIDES } from "../../lib/invisibleText.js";

/**
 * Open311 client keys: another civic tool (FixMyStreet, the town's website, a union of
 * municipalities' dashboard) files requests with `api_key`. Each client has its own key, made by an
 * admin in the staff pages or with `npm run open311:key -- "Client name"`; the key is shown once and
 * stored only as its SHA-256 and first characters. A revoked key files nothing more; every request
 * filed records which client filed it (Open311Submission).
 */

const PREFIX = "o311_";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** The longest client name kept (a label for admins, not a description). */
export const MAX_CLIENT_NAME = 100;
// Anything that is not a key is refused before a hash or a query: keys are the prefix and 32 base64url characters.
const KEY_SHAPE = /^o311_[A-Za-z0-9_-]{32}$/;

// Controls, line and paragraph separators, bidi overrides (a left-to-right mark is allowed).
const NOT_IN_A_NAME = new RegExp(`[${ALL_CONTROLS}\\u2028\\u2029${BIDI_OVERRIDES}]`);

export type ClientNameProblem = "blank" | "too_long" | "control";

/** A client's name as stored (trimmed, inner whitespace kept), or why it cannot be one. */
export function readClientName(raw: string): { ok: true; name: string } | { ok: false; problem: ClientNameProblem } {
  const name = raw.normalize("NFC").trim();
  if (name === "") return { ok: false, problem: "blank" };
  // Bidi embeddings, overrides and isolates count as control characters too: in an admin list or a
  // terminal they would make a name read as another one ("ABC" shown for "CBA").
  if (NOT_IN_A_NAME.test(name)) return { ok: false, problem: "control" };
  if ([...name].length > MAX_CLIENT_NAME) return { ok: false, problem: "too_long" };
  return { ok: true, name };
}

/**
 * Creates a client and its key. The key is returned once (the caller shows or prints it); only its
 * hash and its first characters (`prefix`, to tell keys apart) are stored.
 */
export async function createOpen311Client(tx: Tx | Db, input: { municipalityId: string; name: string; createdById: number | null; now: Date }) {
  const read = readClientName(input.name);
  if (!read.ok) return { ok: false as const, problem: read.problem };
  const key = PREFIX + randomBytes(24).toString("base64url");
  const record = await tx.open311Client.create({
    data: {
      municipalityId: input.municipalityId,
      name: read.name,
      keyHash: sha256(key),
      prefix: key.slice(0, PREFIX.length + 6),
      createdById: input.createdById,
      createdAt: input.now,
    },
  });
  return { ok: true as const, key, record };
}

/** Revokes a client's key: its later requests get 403. False when there was no such active client. */
export async function revokeOpen311Client(tx: Tx | Db, municipalityId: string, id: number, now: Date): Promise<boolean> {
  const result = await tx.open311Client.updateMany({ where: { id, municipalityId, revokedAt: null }, data: { revokedAt: now } });
  return result.count > 0;
}

/** The clients of a municipality, newest first, without their keys, with how many requests each filed. */
export function listOpen311Clients(tx: Tx | Db, municipalityId: string) {
  return tx.open311Client.findMany({
    where: { municipalityId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: {
      id: true,
      name: true,
      prefix: true,
      createdAt: true,
      lastUsedAt: true,
      revokedAt: true,
      createdBy: { select: { displayName: true } },
      _count: { select: { submissions: true } },
    },
  });
}

/** An active client, as a request filed with its key knows it. */
export interface Open311ClientRef {
  id: number;
  name: string;
}

/**
 * The active client holding `key` in this municipality (and when it was last used is recorded), or
 * null for a missing, malformed, unknown or revoked key.
 */
export async function clientForKey(tx: Tx | Db, municipalityId: string, key: string, now: Date): Promise<Open311ClientRef | null> {
  if (!KEY_SHAPE.test(key)) return null;
  const record = await tx.open311Client.findUnique({ where: { keyHash: sha256(key) }, select: { id: true, name: true, municipalityId: true, revokedAt: true } });
  if (!record || record.revokedAt || record.municipalityId !== municipalityId) return null;
  // Checked again as it is written: a revocation committed since the read above (PostgreSQL, read
  // committed) must refuse this request, not let it file one more.
  const used = await tx.open311Client.updateMany({ where: { id: record.id, municipalityId, revokedAt: null }, data: { lastUsedAt: now } });
  if (used.count === 0) return null;
  return { id: record.id, name: record.name };
}
