import { spawn } from "node:child_process";
import path from "node:path";

const root = path.join(import.meta.dirname, "../..");

/**
 * Runs one of the project's command-line scripts (`src/cli/*.ts`) as an operator would: a fresh
 * process in the repository root, with only PATH, HOME, quiet logs, no demo data and `env`.
 */
export function runCommand(script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? root, LOG_LEVEL: "silent", DEMO_DATA: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}
