import type { Db, Tx } from "../db/createDb.js";
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
  /** May define, schedule and read surveys (admins always may). */
  canRunSurveys: boolean;
}

/** Surveys (definitions, schedules, results, individual responses): admins and staff given the permission. */
export const canRunSurveys = (actor: Actor) => actor.role === "admin" || actor.canRunSurveys;

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
    canRunSurveys: staff.canRunSurveys,
  };
}

/**
 * A staff account to create. Prefer `passwordHash` (from hashPassword) computed before the
 * transaction: scrypt takes most of a second, and a slow hash inside a transaction can outlast its
 * timeout on a busy machine.
 */
export interface NewStaff {
  municipalityId: string;
  username: string;
  displayName: string;
  /** One of the two is required. */
  password?: string;
  passwordHash?: string;
  role: Role;
  departments: string[];
  locale: "ar" | "en";
  /** May run surveys (admins always may). */
  canRunSurveys?: boolean;
}

async function passwordHashOf(input: NewStaff): Promise<string> {
  if (input.passwordHash) return input.passwordHash;
  if (input.password === undefined) throw new Error("createStaff needs a password or a passwordHash");
  return hashPassword(input.password);
}

/** Creates a staff account with a hashed password. */
export async function createStaff(tx: Tx, input: NewStaff) {
  return tx.staff.create({
    data: {
      municipalityId: input.municipalityId,
      username: input.username,
      displayName: input.displayName,
      passwordHash: await passwordHashOf(input),
      role: input.role,
      locale: input.locale,
      canRunSurveys: input.canRunSurveys ?? false,
      departments: { create: input.departments.map((departmentCode) => ({ departmentCode })) },
    },
  });
}

/**
 * Creates the first admin from ADMIN_USERNAME / ADMIN_PASSWORD when the municipality has no staff
 * account yet; does nothing otherwise (changing the variables later never resets a password).
 */
export async function ensureInitialAdmin(db: Db, municipalityId: string, admin: { username: string; password: string } | undefined) {
  if (!admin || (await db.staff.count({ where: { municipalityId } })) > 0) return null;
  const passwordHash = await hashPassword(admin.password);
  return db.$transaction(async (tx) => {
    if ((await tx.staff.count({ where: { municipalityId } })) > 0) return null;
    return createStaff(tx, { municipalityId, username: admin.username, displayName: admin.username, passwordHash, role: "admin", departments: [], locale: "ar" });
  });
}

/** Gives or takes a staff member's surveys permission (admins have it whatever is stored). */
export async function setCanRunSurveys(tx: Tx, municipalityId: string, staffId: number, allowed: boolean): Promise<boolean> {
  const { count } = await tx.staff.updateMany({ where: { id: staffId, municipalityId }, data: { canRunSurveys: allowed } });
  return count > 0;
}
