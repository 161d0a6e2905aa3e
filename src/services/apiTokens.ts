import { createHash, randomBytes } from "node:crypto";
import type { Tx } from "../db/createDb.js";
import { actorById, type Actor } from "./staff.js";

const PREFIX = "bld_";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Creates an API token for a staff member (it acts with their role and departments). The token is
 * returned once; only its SHA-256 and first characters are stored.
 */
export async function createApiToken(tx: Tx, input: { municipalityId: string; staffId: number; name: string }) {
  const token = PREFIX + randomBytes(24).toString("base64url");
  const record = await tx.apiToken.create({
    data: { municipalityId: input.municipalityId, staffId: input.staffId, name: input.name, tokenHash: sha256(token), prefix: token.slice(0, PREFIX.length + 6) },
  });
  return { token, record };
}

/** Revokes a token; later requests with it get 401. */
export async function revokeApiToken(tx: Tx, municipalityId: string, id: number, now: Date) {
  const result = await tx.apiToken.updateMany({ where: { id, municipalityId, revokedAt: null }, data: { revokedAt: now } });
  return result.count > 0;
}

/** The tokens of a municipality, newest first, without their secrets. */
export function listApiTokens(tx: Tx, municipalityId: string) {
  return tx.apiToken.findMany({
    where: { municipalityId },
    orderBy: { createdAt: "desc" },
    include: { staff: { select: { id: true, username: true, displayName: true } } },
  });
}

/** The actor behind a bearer token; null for an unknown, revoked or deactivated one. */
export async function actorForApiToken(tx: Tx, token: string, now: Date): Promise<Actor | null> {
  if (!token.startsWith(PREFIX)) return null;
  const record = await tx.apiToken.findUnique({ where: { tokenHash: sha256(token) } });
  if (!record || record.revokedAt) return null;
  const actor = await actorById(tx, record.staffId);
  if (!actor) return null;
  await tx.apiToken.update({ where: { id: record.id }, data: { lastUsedAt: now } });
  return actor;
}
