import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isPostgresUrl } from "./createDb.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The file a `file:` SQLite URL points at, resolved like Prisma does (relative to the working directory). */
export function sqliteFilePath(url: string): string {
  return path.resolve(url.replace(/^file:/, "").replace(/\?.*$/, ""));
}

/**
 * Applies pending migrations with `prisma migrate deploy` (the offline WASM engine configured in
 * prisma.config.ts). Creates the folder of a SQLite file first. Rejects with the CLI's output on failure.
 */
export async function migrate(url: string): Promise<void> {
  let target = url;
  if (!isPostgresUrl(url)) {
    mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
    // The CLI runs in the repository root; an absolute path keeps it on the app's file.
    target = `file:${sqliteFilePath(url)}`;
  }
  const prisma = path.join(ROOT, "node_modules", "prisma", "build", "index.js");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [prisma, "migrate", "deploy"], {
      cwd: ROOT,
      // Only what the CLI needs: the app's configuration stays in the app.
      env: { DATABASE_URL: target, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output}`)),
    );
  });
}
