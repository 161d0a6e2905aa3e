import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { postgresSchemaFrom } from "../../scripts/sync-schema.js";

const root = path.join(import.meta.dirname, "../..");
const read = (p: string) => readFileSync(path.join(root, p), "utf8");

describe("the two Prisma schemas", () => {
  it("PostgreSQL's is generated from SQLite's (run npm run db:sync-schema after editing)", () => {
    expect(read("prisma/postgres/schema.prisma")).toBe(postgresSchemaFrom(read("prisma/sqlite/schema.prisma")));
  });

  it("have the same migrations, by name", () => {
    const names = (dialect: string) =>
      readdirSync(path.join(root, "prisma", dialect, "migrations"), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    expect(names("postgres")).toEqual(names("sqlite"));
    expect(names("sqlite").length).toBeGreaterThan(0);
  });

  it("every table carries a municipality id, ready for several towns on one deployment", () => {
    const models = [...read("prisma/sqlite/schema.prisma").matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)];
    const withoutMunicipality = models.filter(([, , body]) => !/municipalityId\s+String/.test(body!)).map(([, name]) => name);
    // Rows that belong to a ticket, a staff member or an account take its municipality; job leases are global.
    expect(withoutMunicipality).toEqual(["TicketEvent", "StaffDepartment", "StaffSession", "TicketRead", "TicketPresence", "AccountBalance", "StatementLine", "ReminderSent", "JobLease"]);
  });
});
