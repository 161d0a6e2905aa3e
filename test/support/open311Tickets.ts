import { randomBytes } from "node:crypto";
import type { Db } from "../../src/db/createDb.js";
import { MUNICIPALITY } from "./testApp.js";

/**
 * Requests another civic tool filed through Open311, written straight with Prisma as the filing
 * service stores them: an `Open311Client` (a dummy key hash), a ticket with channel and route
 * "open311" — without a resident, or with one found by phone — and its `Open311Submission`.
 */

/** An Open311 client (its key is never used here: a dummy hash). */
export async function open311Client(db: Db, name: string, options: { revokedAt?: Date } = {}) {
  return db.open311Client.create({
    data: { municipalityId: MUNICIPALITY, name, keyHash: `test-${randomBytes(16).toString("hex")}`, prefix: "o311_test00", ...(options.revokedAt ? { revokedAt: options.revokedAt } : {}) },
  });
}

/** The questions the seeded "roads" category asks Open311 clients: a list, a text, and one retired. */
export async function roadsQuestions(db: Db) {
  const roads = await db.category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: MUNICIPALITY, code: "roads" } } });
  const question = (code: string, fields: { datatype: string; sortOrder: number; descriptionAr: string; descriptionEn: string; values?: unknown; active?: boolean }) =>
    db.categoryAttribute.create({
      data: {
        municipalityId: MUNICIPALITY,
        categoryId: roads.id,
        code,
        datatype: fields.datatype,
        sortOrder: fields.sortOrder,
        descriptionAr: fields.descriptionAr,
        descriptionEn: fields.descriptionEn,
        values: JSON.stringify(fields.values ?? []),
        active: fields.active ?? true,
      },
    });
  await question("hole_size", {
    datatype: "singlevaluelist",
    sortOrder: 1,
    descriptionAr: "ما حجم الحفرة؟",
    descriptionEn: "How big is the hole?",
    values: [
      { key: "small", nameAr: "صغيرة", nameEn: "Small" },
      { key: "large", nameAr: "كبيرة", nameEn: "Large" },
    ],
  });
  await question("hazards", {
    datatype: "multivaluelist",
    sortOrder: 2,
    descriptionAr: "ما المخاطر؟",
    descriptionEn: "What hazards?",
    values: [
      { key: "cars", nameAr: "على السيارات", nameEn: "To cars" },
      { key: "children", nameAr: "على الأطفال", nameEn: "To children" },
    ],
  });
  await question("details", { datatype: "text", sortOrder: 3, descriptionAr: "تفاصيل أخرى", descriptionEn: "Other details" });
  await question("old_question", { datatype: "string", sortOrder: 4, descriptionAr: "سؤال قديم", descriptionEn: "A retired question", active: false });
  return roads;
}

export interface Open311TicketFields {
  reference: number;
  clientId: number;
  /** A resident found by phone; none by default (filed without a phone number). */
  residentId?: number;
  categoryId?: number | null;
  department?: string | null;
  description?: string;
  status?: string;
  mediaUrls?: string[];
  attributes?: Record<string, string | string[]>;
  person?: { firstName?: string; lastName?: string; email?: string; deviceId?: string; accountId?: string };
  createdAt?: Date;
}

/** A ticket an Open311 client filed, with its submission and its "created" event. */
export async function open311Ticket(db: Db, fields: Open311TicketFields) {
  const createdAt = fields.createdAt ?? new Date();
  const ticket = await db.ticket.create({
    data: {
      municipalityId: MUNICIPALITY,
      reference: fields.reference,
      residentId: fields.residentId ?? null,
      categoryId: fields.categoryId ?? null,
      department: fields.department === undefined ? "public_works" : fields.department,
      description: fields.description ?? "Pothole on the main road",
      status: fields.status ?? "new",
      channel: "open311",
      route: "open311",
      locale: "en",
      createdAt,
    },
  });
  const client = await db.open311Client.findUniqueOrThrow({ where: { id: fields.clientId } });
  // As src/services/open311/filing.ts writes it: by the system, naming the client.
  await db.ticketEvent.create({
    data: {
      ticketId: ticket.id,
      actorType: "system",
      kind: "created",
      data: JSON.stringify({ channel: "open311", route: "open311", needsHuman: false, open311Client: { id: client.id, name: client.name } }),
      createdAt,
    },
  });
  await db.open311Submission.create({
    data: {
      municipalityId: MUNICIPALITY,
      ticketId: ticket.id,
      clientId: fields.clientId,
      // The service it was filed in: its category's code when it has one.
      serviceCode: fields.categoryId ? (await db.category.findUniqueOrThrow({ where: { id: fields.categoryId } })).code : "other",
      mediaUrls: JSON.stringify(fields.mediaUrls ?? []),
      attributes: JSON.stringify(fields.attributes ?? {}),
      fingerprint: randomBytes(32).toString("hex"),
      ...(fields.person ?? {}),
      createdAt,
    },
  });
  return ticket;
}
