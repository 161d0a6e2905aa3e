/**
 * A second process on the same database (like `npm run chat` beside the server): runs `count`
 * transactions at once that each read, then write a resident. Prints how many failed, as JSON.
 * Usage: node --import tsx test/support/sqliteWriter.ts <database url> <phone prefix> <count>
 */
import { createDb } from "../../src/db/createDb.js";

const [url = "", prefix = "", count = "0"] = process.argv.slice(2);
const db = await createDb(url);
const results = await Promise.allSettled(
  Array.from({ length: Number(count) }, (_, i) =>
    db.$transaction(
      async (tx) => {
        await tx.resident.count();
        await new Promise((resolve) => setTimeout(resolve, 5));
        await tx.resident.create({ data: { phone: `${prefix}${String(i).padStart(4, "0")}` } });
      },
      { maxWait: 20_000, timeout: 20_000 },
    ),
  ),
);
await db.$disconnect();
const errors = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason).slice(0, 300)] : []));
console.log(JSON.stringify({ errors }));
