import { createHash, randomBytes } from "node:crypto";
import type { Db, Tx } from "../db/createDb.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { actorById, type Actor } from "./staff.js";

/** How long a staff sign-in lasts, from the moment of signing in. */
export const SESSION_HOURS = 12;
/** Wrong passwords in a row that lock an account… */
export const MAX_FAILED_LOGINS = 5;
/** …for this long. */
export const LOCK_MINUTES = 15;
// Writing lastSeenAt on every request (the queue polls every 10 s) would be a write per poll.
const SEEN_RESOLUTION_MS = 5 * 60_000;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A session as the browser holds it: the secret id goes in the cookie, the CSRF token in forms. */
export interface StartedSession {
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Starts a session for a staff member. Only the SHA-256 of the returned id is stored. */
export async function startSession(tx: Tx, staffId: number, now: Date): Promise<StartedSession> {
  const id = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3600_000);
  // A good moment to forget this person's expired sessions.
  await tx.staffSession.deleteMany({ where: { staffId, expiresAt: { lte: now } } });
  await tx.staffSession.create({ data: { id: sha256(id), staffId, csrfToken, createdAt: now, lastSeenAt: now, expiresAt } });
  return { id, csrfToken, expiresAt };
}

/**
 * The signed-in staff member behind a session id, with the session's CSRF token; null when the
 * session is unknown, expired, or its owner has been deactivated.
 */
export async function sessionActor(tx: Tx, id: string, now: Date): Promise<{ actor: Actor; csrfToken: string } | null> {
  const session = await tx.staffSession.findUnique({ where: { id: sha256(id) } });
  if (!session) return null;
  if (session.expiresAt <= now) {
    await tx.staffSession.deleteMany({ where: { id: session.id } });
    return null;
  }
  const actor = await actorById(tx, session.staffId);
  if (!actor) return null;
  if (now.getTime() - session.lastSeenAt.getTime() > SEEN_RESOLUTION_MS) {
    await tx.staffSession.update({ where: { id: session.id }, data: { lastSeenAt: now } });
  }
  return { actor, csrfToken: session.csrfToken };
}

/** Signs a browser out. */
export async function endSession(tx: Tx, id: string): Promise<void> {
  await tx.staffSession.deleteMany({ where: { id: sha256(id) } });
}

/** Signs a staff member out everywhere (deactivated, or their password was reset). */
export async function endSessionsOf(tx: Tx, staffId: number): Promise<number> {
  return (await tx.staffSession.deleteMany({ where: { staffId } })).count;
}

/**
 * The outcome of a sign-in attempt. The reasons are for logs and tests only: people are shown one
 * message for all of them, so that nobody learns which usernames exist.
 */
export type SignInResult =
  | { ok: true; actor: Actor; session: StartedSession }
  | { ok: false; reason: "unknown" | "wrong_password" | "locked" | "inactive" };

let dummyHash: Promise<string> | undefined;

/**
 * Checks a username and password and starts a session. Five wrong passwords in a row lock the
 * account for 15 minutes (even the right password is refused meanwhile). Takes the client rather
 * than a transaction: the slow password check runs outside any transaction, the bookkeeping inside.
 */
export async function signIn(db: Db, input: { municipalityId: string; username: string; password: string }, now: Date): Promise<SignInResult> {
  const username = input.username.trim().toLowerCase();
  const staff = username ? await db.staff.findUnique({ where: { municipalityId_username: { municipalityId: input.municipalityId, username } } }) : null;
  if (!staff) {
    // Spend the same time as a real check, so response times do not reveal which usernames exist.
    dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
    await verifyPassword(input.password, await dummyHash);
    return { ok: false, reason: "unknown" };
  }
  const passwordOk = await verifyPassword(input.password, staff.passwordHash);
  return db.$transaction(async (tx): Promise<SignInResult> => {
    const current = await tx.staff.findUniqueOrThrow({ where: { id: staff.id } });
    if (current.lockedUntil && current.lockedUntil > now) return { ok: false, reason: "locked" };
    if (!current.active) return { ok: false, reason: "inactive" };
    if (!passwordOk) {
      const counted = await tx.staff.update({ where: { id: staff.id }, data: { failedLogins: { increment: 1 } } });
      if (counted.failedLogins >= MAX_FAILED_LOGINS) {
        await tx.staff.update({ where: { id: staff.id }, data: { failedLogins: 0, lockedUntil: new Date(now.getTime() + LOCK_MINUTES * 60_000) } });
      }
      return { ok: false, reason: "wrong_password" };
    }
    await tx.staff.update({ where: { id: staff.id }, data: { failedLogins: 0, lockedUntil: null, lastLoginAt: now } });
    const actor = await actorById(tx, staff.id);
    if (!actor) return { ok: false, reason: "inactive" };
    return { ok: true, actor, session: await startSession(tx, staff.id, now) };
  });
}
