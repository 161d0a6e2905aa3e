import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.join(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(os.tmpdir(), "baladiya-main-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `src/main.ts` as `npm start` does, with only the given configuration. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe("npm start", () => {
  it("migrates an empty SQLite database, seeds it, serves /healthz and stops on SIGTERM", async () => {
    const server = start({ PORT: "0", DATABASE_URL: `file:${path.join(dir, "fresh", "baladiya.db")}`, LOG_LEVEL: "info" });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(server.output().stdout);
        if (match) {
          clearInterval(timer);
          resolve(match[1]!);
        }
      }, 100);
      void server.exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`exited with ${code}: ${JSON.stringify(server.output())}`));
      });
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const { stdout } = server.output();
    expect(stdout).toContain('"categories":10');
    expect(stdout).toContain('"tickets":3');
    expect(stdout).toMatch(/"accounts":\d+,"msg":"seeded demo accounts/);
    expect(stdout).toContain("TWILIO_AUTH_TOKEN is not set");
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  }, 60_000);

  it("refuses a bad value and names the variable", async () => {
    const server = start({ PORT: "eighty", DATABASE_URL: `file:${path.join(dir, "never.db")}` });
    expect(await server.exited).toBe(1);
    expect(server.output().stderr).toContain("PORT:");
    expect(server.output().stderr).not.toContain("    at ");
  }, 30_000);
});
