import type { z } from "zod";
import type { Tx } from "../../db/createDb.js";
import { maskPhone } from "../../lib/maskPhone.js";
import type { TicketSummary } from "./apiSchemas.js";
import { serializeQueueRow } from "./serializeQueueRow.js";

/**
 * The ticket as a queue row, read after a change the actor was allowed to make (so without the
 * actor's scope: a ticket an agent just moved to another department is still shown to them once).
 */
export async function ticketSummary(tx: Tx, municipalityId: string, reference: number): Promise<z.input<typeof TicketSummary>> {
  const t = await tx.ticket.findUniqueOrThrow({
    where: { municipalityId_reference: { municipalityId, reference } },
    include: {
      category: { select: { code: true, nameAr: true, nameEn: true } },
      resident: { select: { phone: true } },
      assignee: { select: { id: true, displayName: true } },
      open311Submission: { select: { client: { select: { name: true } } } },
    },
  });
  return serializeQueueRow({ ...t, phoneMasked: t.resident ? maskPhone(t.resident.phone) : null, open311Client: t.open311Submission?.client.name ?? null });
}
