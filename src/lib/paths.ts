import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The repository's root folder (the one with package.json), found by walking up from this file, so
 * that it is the same whether the code runs from src/ (tsx, tests) or compiled from dist/
 * (`npm start`). Files the app reads at run time (locales/, seed/, samples/, prisma/, the staff
 * pages' assets under src/) are resolved from here, never from the running file's own folder.
 */
export const REPO_ROOT = findRoot(import.meta.dirname);

/** The TypeScript sources: non-code files that live beside them (the staff pages' CSS and JS) are served from here, also by dist/. */
export const SOURCE_DIR = path.join(REPO_ROOT, "src");

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
