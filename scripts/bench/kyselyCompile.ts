/**
 * What building and compiling a Kysely query costs per call, against running it prepared
 * (src/db/hot/prepared.ts): residentForInbound's read, N times each way, on a temporary SQLite file.
 *
 *     npm run bench:queries -- [N=20000] [rounds=3]
 *
 * Also prints the floor (the same SQL run straight through `executeQuery`: driver and queue only)
 * and the build + compile alone, without running anything.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CompiledQuery, type Kysely } from "kysely";
import { createDb } from "../../src/db/createDb.js";
import { openHot } from "../../src/db/hot/connect.js";
import { prepared } from "../../src/db/hot/prepared.js";
import { migrate } from "../../src/db/migrate.js";
import type { DB } from "../../src/generated/kysely/tables.js";

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const M = "qab-elias";
const PHONES = 100;

const residentColumns = ["id", "locale", "optedOut", "botPausedAt", "botPauseReason", "profileName"] as const;
const build = (db: Kysely<DB>, p: { municipalityId: string; phone: string }) =>
  db.selectFrom("Resident").select(residentColumns).where("municipalityId", "=", p.municipalityId).where("phone", "=", p.phone);
const residentByPhone = prepared(build);

const dir = mkdtempSync(path.join(os.tmpdir(), "baladiya-bench-kysely-"));
const url = `file:${path.join(dir, "bench.db")}`;
try {
  await migrate(url);
  const prisma = await createDb(url);
  const hot = openHot(prisma, url);
  const phone = (i: number) => `+961710${String(i % PHONES).padStart(5, "0")}`;
  for (let i = 0; i < PHONES; i++) await prisma.resident.create({ data: { municipalityId: M, phone: phone(i), locale: "ar", profileName: `R${i}` } });
  const floorSql = build(hot.db, { municipalityId: M, phone: phone(0) }).compile().sql;

  const ways: Record<string, (i: number) => Promise<unknown>> = {
    dynamic: (i) => build(hot.db, { municipalityId: M, phone: phone(i) }).executeTakeFirst(),
    prepared: (i) => residentByPhone.first(hot.db, { municipalityId: M, phone: phone(i) }),
    "floor (raw SQL)": async (i) => (await hot.db.executeQuery(CompiledQuery.raw(floorSql, [M, phone(i)]))).rows[0],
    "build+compile only": async (i) => build(hot.db, { municipalityId: M, phone: phone(i) }).compile(),
  };

  // Same answers, then warm up (JIT, SQLite's statement cache).
  for (let i = 0; i < PHONES; i++) {
    const [a, b] = [await ways.dynamic!(i), await ways.prepared!(i)];
    if (JSON.stringify(a) !== JSON.stringify(b) || !a) throw new Error(`different rows for ${phone(i)}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
  }
  for (const run of Object.values(ways)) for (let i = 0; i < 2_000; i++) await run(i);

  const results: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(ways)) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < N; i++) await run(i);
      const us = Number(process.hrtime.bigint() - start) / 1_000 / N;
      (results[name] ??= []).push(us);
    }
  }
  console.log(`node ${process.version}, SQLite (temp file), N=${N} × ${ROUNDS} rounds; µs per call (best round, all rounds)`);
  for (const [name, rounds] of Object.entries(results)) {
    console.log(`  ${name.padEnd(20)} ${Math.min(...rounds).toFixed(2).padStart(7)}   [${rounds.map((r) => r.toFixed(2)).join(", ")}]`);
  }
  await hot.close();
  await prisma.$disconnect();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
