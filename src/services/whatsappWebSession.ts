import type { WhatsAppWebControl, WhatsAppWebState, WhatsAppWebStatus } from "../channels/whatsappWeb/status.js";
import { WWEB_STATES } from "../channels/whatsappWeb/status.js";
import type { Db } from "../db/createDb.js";
import { isUniqueViolation } from "../db/errors.js";
import { acquireLease } from "./jobLease.js";

/**
 * The WhatsApp Web session in the database: who holds it (a job lease, so that of several
 * instances on one PostgreSQL exactly one drives the phone), what it last said (published by the
 * holder, read by every instance's admin page and /healthz), admins' requests to log out or link
 * again (written by any instance, acted on by the holder), and the phone numbers behind LIDs.
 */

/** The lease's name; one session per town. */
export const sessionLeaseName = (municipalityId: string) => `whatsapp-web:${municipalityId}`;

/** Takes or renews the session's lease; true when `holder` has it now. */
export function holdSession(db: Db, municipalityId: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
  return acquireLease(db, sessionLeaseName(municipalityId), holder, ttlMs, now);
}

/** Gives the lease back (shutdown, or the session given up), so another instance takes over at once. */
export async function releaseSession(db: Db, municipalityId: string, holder: string): Promise<void> {
  await db.jobLease.deleteMany({ where: { name: sessionLeaseName(municipalityId), holder } });
}

/** Requests from admins the holder has not acted on yet. */
export interface SessionRequests {
  logout: { at: Date; by: number | null } | null;
  relink: { at: Date; by: number | null } | null;
}

/** Publishes the holder's status; returns what admins asked for meanwhile. */
export async function publishStatus(db: Db, municipalityId: string, status: Omit<WhatsAppWebStatus, "updatedAt" | "holder"> & { holder: string }, now: Date): Promise<SessionRequests> {
  const fields = {
    holder: status.holder,
    state: status.state,
    since: status.since,
    qr: status.qr ?? null,
    qrAt: status.qrAt ?? null,
    linkedNumber: status.linkedNumber ?? null,
    detail: status.detail?.slice(0, 500) ?? null,
    retryAt: status.retryAt ?? null,
    updatedAt: now,
  };
  const row = await db.whatsAppWebSession.upsert({ where: { municipalityId }, create: { municipalityId, ...fields }, update: fields });
  return {
    logout: row.logoutRequestedAt ? { at: row.logoutRequestedAt, by: row.logoutRequestedBy } : null,
    relink: row.relinkRequestedAt ? { at: row.relinkRequestedAt, by: row.relinkRequestedBy } : null,
  };
}

/**
 * The holder took a request: it is cleared, only if it is still the one read (a new click
 * meanwhile stays), and, when it changed something (`acted`), the action goes to the audit log as
 * the admin's.
 */
export async function completeRequest(db: Db, municipalityId: string, kind: "logout" | "relink", request: { at: Date; by: number | null }, now: Date, acted = true): Promise<void> {
  await db.$transaction(async (tx) => {
    const cleared =
      kind === "logout"
        ? await tx.whatsAppWebSession.updateMany({ where: { municipalityId, logoutRequestedAt: request.at }, data: { logoutRequestedAt: null, logoutRequestedBy: null } })
        : await tx.whatsAppWebSession.updateMany({ where: { municipalityId, relinkRequestedAt: request.at }, data: { relinkRequestedAt: null, relinkRequestedBy: null } });
    if (cleared.count === 0 || !acted) return;
    await tx.auditEvent.create({
      data: {
        municipalityId,
        actorType: request.by === null ? "system" : "staff",
        actorId: request.by,
        kind: kind === "logout" ? "whatsapp_web_logged_out" : "whatsapp_web_relinked",
        data: JSON.stringify({ requestedAt: request.at.toISOString() }),
        createdAt: now,
      },
    });
  });
}

const isState = (value: string): value is WhatsAppWebState => (WWEB_STATES as readonly string[]).includes(value);

/** The staff pages' and /healthz's view of the session, from the database (whichever instance serves the page). */
export function whatsappWebControl(db: Db, municipalityId: string, clock: () => Date = () => new Date()): WhatsAppWebControl {
  const request = async (kind: "logout" | "relink", staffId: number) => {
    const at = clock();
    const data = kind === "logout" ? { logoutRequestedAt: at, logoutRequestedBy: staffId } : { relinkRequestedAt: at, relinkRequestedBy: staffId };
    try {
      // No holder has published yet: the request waits in a row of its own for the first one.
      await db.whatsAppWebSession.upsert({
        where: { municipalityId },
        create: { municipalityId, holder: "", state: "stopped", since: at, updatedAt: new Date(0), ...data },
        update: data,
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await db.whatsAppWebSession.update({ where: { municipalityId }, data });
    }
  };
  return {
    async status() {
      const row = await db.whatsAppWebSession.findUnique({ where: { municipalityId } });
      if (!row || !row.holder) return null;
      return {
        state: isState(row.state) ? row.state : "stopped",
        since: row.since,
        ...(row.qr ? { qr: row.qr } : {}),
        ...(row.qrAt ? { qrAt: row.qrAt } : {}),
        ...(row.linkedNumber ? { linkedNumber: row.linkedNumber } : {}),
        ...(row.detail ? { detail: row.detail } : {}),
        ...(row.retryAt ? { retryAt: row.retryAt } : {}),
        holder: row.holder,
        updatedAt: row.updatedAt,
      };
    },
    requestLogout: (staffId) => request("logout", staffId),
    requestRelink: (staffId) => request("relink", staffId),
  };
}

/** The phone numbers behind LIDs, as WhatsApp told us once: a LID resolves even when WhatsApp cannot be asked. */
export interface LidStore {
  phoneOf(lid: string): Promise<string | null>;
  remember(lid: string, phone: string, now: Date): Promise<void>;
}

export function lidStore(db: Db, municipalityId: string): LidStore {
  return {
    async phoneOf(lid) {
      const row = await db.whatsAppLid.findUnique({ where: { municipalityId_lid: { municipalityId, lid } }, select: { phone: true } });
      return row?.phone ?? null;
    },
    async remember(lid, phone, now) {
      try {
        await db.whatsAppLid.upsert({
          where: { municipalityId_lid: { municipalityId, lid } },
          create: { municipalityId, lid, phone, createdAt: now, updatedAt: now },
          update: { phone, updatedAt: now },
        });
      } catch (error) {
        // Two messages of one new LID at once: the other wrote the same mapping.
        if (!isUniqueViolation(error)) throw error;
      }
    },
  };
}
