import { readFileSync } from "node:fs";
import path from "node:path";
import type { CategoryView, Lookups, TicketView } from "../../src/conversation/types.js";

interface SeedCategory {
  code: string;
  nameAr: string;
  nameEn: string;
  keywords: string[];
  needsLocation: boolean;
  childRelated: boolean;
}

/** The seeded categories, as the engine sees them. */
export const seededCategories: CategoryView[] = (
  JSON.parse(readFileSync(path.join(import.meta.dirname, "../../seed/categories.json"), "utf8")) as SeedCategory[]
).map((c) => ({
  code: c.code,
  name: { ar: c.nameAr, en: c.nameEn },
  keywords: c.keywords,
  needsLocation: c.needsLocation,
  childRelated: c.childRelated,
}));

/**
 * In-memory lookups for one resident: their tickets, and references handed out from `nextReference`
 * upwards so transcripts are deterministic.
 */
export class FakeLookups implements Lookups {
  tickets: TicketView[] = [];
  constructor(private nextReference = 10427) {}

  async categories() {
    return seededCategories;
  }
  async openTickets(limit: number) {
    const open = this.tickets
      .filter((t) => t.status !== "resolved" && t.status !== "closed")
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return { tickets: open.slice(0, limit), total: open.length };
  }
  async ticketByReference(reference: number) {
    return this.tickets.find((t) => t.reference === reference) ?? null;
  }
  async freeReference() {
    return this.nextReference++;
  }
}
