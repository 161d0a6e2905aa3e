import type { Tx } from "../db/createDb.js";
import { hashPassword } from "./passwords.js";

export const ROLES = ["admin", "agent"] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting: what every staff action and query needs to know about them. */
export interface Actor {
  id: number;
  municipalityId: string;
  username: string;
  displayName: string;
  role: Role;
  /** Department codes whose tickets an agent works (admins see everything). */
  departments: string[];
  locale: "ar" | "en";
}

/** Admins see every ticket; agents only their departments' (a ticket without a department: admins only). */
export function canAccessTicket(actor: Actor, ticket: { department: string | null; municipalityId: string }): boolean {
  if (ticket.municipalityId !== actor.municipalityId) return false;
  return actor.role === "admin" || (ticket.department !== null && actor.departments.includes(ticket.department));
}

/** The Prisma filter of tickets an actor may see. */
export function ticketScope(actor: Actor) {
  return actor.role === "admin"
    ? { municipalityId: actor.municipalityId }
    : { municipalityId: actor.municipalityId, department: { in: actor.departments } };
}

/** Loads a staff member as an Actor; null when unknown or deactivated. */
export async function actorById(tx: Tx, id: number): Promise<Actor | null> {
  const staff = await tx.staff.findUnique({ where: { id }, include: { departments: true } });
  if (!staff || !staff.active) return null;
  return {
    id: staff.id,
    municipalityId: staff.municipalityId,
    username: staff.username,
    displayName: staff.displayName,
    role: staff.role === "admin" ? "admin" : "agent",
    departments: staff.departments.map((d) => d.departmentCode),
    locale: staff.locale === "en" ? "en" : "ar",
  };
}

export interface NewStaff {
  municipalityId: string;
  username: string;
  displayName: string;
  password: string;
  role: Role;
  departments: string[];
  locale: "ar" | "en";
}

/** Creates a staff account with a hashed password. */
export async function createStaff(tx: Tx, input: NewStaff) {
  return tx.staff.create({
    data: {
      municipalityId: input.municipalityId,
      username: input.username,
      displayName: input.displayName,
      passwordHash: await hashPassword(input.password),
      role: input.role,
      locale: input.locale,
      departments: { create: input.departments.map((departmentCode) => ({ departmentCode })) },
    },
  });
}

/**
 * Creates the first admin from ADMIN_USERNAME / ADMIN_PASSWORD when the municipality has no staff
 * account yet; does nothing otherwise (changing the variables later never resets a password).
 */
export async function ensureInitialAdmin(tx: Tx, municipalityId: string, admin: { username: string; password: string } | undefined) {
  if (!admin || (await tx.staff.count({ where: { municipalityId } })) > 0) return null;
  return createStaff(tx, { municipalityId, username: admin.username, displayName: admin.username, password: admin.password, role: "admin", departments: [], locale: "ar" });
}
