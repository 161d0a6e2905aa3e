// Prisma CLI configuration (migrate, generate). The app itself picks its client in src/db/createDb.ts.
// See ../shared/ENVIRONMENT.md: the WASM schema engine plus driver adapters work offline.
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3ForMigrate, PrismaPgForMigrate } from "./prisma/migrate-adapters.js";

// schema-engine-wasm leaves 10 s/60 s timers pending after it finishes (PG advisory lock,
// evaluateDataLoss); unref long timers so the CLI exits as soon as its work is done.
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
  const t = realSetTimeout(fn, ms, ...rest);
  if ((ms ?? 0) >= 10_000) t.unref?.();
  return t;
}) as typeof setTimeout;

// The CLI is a separate process started by scripts and src/db/migrate.ts; it reads the URL they pass.
const url = process.env.DATABASE_URL ?? "file:./data/baladiya.db";
const isPg = /^postgres(ql)?:\/\//.test(url);
const dir = isPg ? "prisma/postgres" : "prisma/sqlite";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: `${dir}/schema.prisma`,
  migrations: { path: `${dir}/migrations` },
  async adapter() {
    return isPg ? new PrismaPgForMigrate(url) : new PrismaBetterSQLite3ForMigrate({ url });
  },
});
