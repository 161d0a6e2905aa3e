/**
 * `npm run bench:whatsapp-web`: what turning WhatsApp Web on costs a server. Starts the server as
 * `npm start` runs it (a fresh SQLite database, no demo data, production mode), with
 * WHATSAPP_WEB_ENABLED off and then on, a few rounds each, and prints, as medians:
 *   - the time from spawn to the first 200 from /healthz;
 *   - the server's RSS then, and its peak over the following seconds (VmHWM);
 *   - the peak memory (summed PSS) of the server's child processes (Chromium and its helpers) then.
 * With the channel off the library must never load: the server's figures should match. A measurement,
 * not a test: it always exits 0 unless a server fails to start. `--rounds N` (default 3),
 * `--watch S` seconds after healthy (default 12). Offline machines (like CI here) never reach
 * WhatsApp's servers: Chromium starts, fails name resolution, and is started again after the backoff,
 * so the Chromium figure is the browser without WhatsApp Web's page loaded.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { cleanupAll, freePort, LOOPBACK, onCleanup, readProc, serverCommand, startChild, waitForHealth } from "./processes.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const ROUNDS = option("rounds", 3);
const WATCH_MS = option("watch", 12) * 1000;

interface Round {
  healthyMs: number;
  rssAtHealthyMiB: number;
  peakRssMiB: number;
  childrenPeakMiB: number;
  childrenMax: number;
  whatsappWeb: string;
}

/**
 * Memory (MiB) and count of every descendant of `pid`. Chromium's processes share most of their
 * pages: their RSS summed counts those pages once per process, so each one's PSS (shared pages
 * divided among their users, /proc/<pid>/smaps_rollup) is summed instead, RSS where PSS is unreadable.
 */
function descendants(pid: number): { rssMiB: number; count: number } {
  let out: string;
  try {
    out = execFileSync("ps", ["-eo", "pid=,ppid=,rss="], { encoding: "utf8" });
  } catch {
    return { rssMiB: 0, count: 0 };
  }
  const rows = out
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number, number]);
  const children = new Map<number, Array<[number, number]>>();
  for (const [p, parent, rss] of rows) children.set(parent, [...(children.get(parent) ?? []), [p, rss]]);
  let rssKiB = 0;
  let count = 0;
  const walk = (parent: number) => {
    for (const [child, rss] of children.get(parent) ?? []) {
      rssKiB += pssKiB(child) ?? rss;
      count++;
      walk(child);
    }
  };
  walk(pid);
  return { rssMiB: rssKiB / 1024, count };
}

function pssKiB(pid: number): number | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const pss = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1];
    return pss === undefined ? undefined : Number(pss);
  } catch {
    return undefined;
  }
}

const healthz = (port: number) =>
  new Promise<Record<string, unknown> | null>((resolve) => {
    const req = http.get({ host: LOOPBACK, port, path: "/healthz", timeout: 2000, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body) as Record<string, unknown>);
        } catch {
          resolve(null);
        }
      });
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
  });

async function round(mode: "off" | "on", n: number, command: ReturnType<typeof serverCommand>): Promise<Round> {
  const dir = await mkdtemp(path.join(tmpdir(), `baladiya-wweb-bench-${mode}-`));
  const removeDir = onCleanup(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dir,
    NODE_ENV: "production",
    PORT: String(port),
    HOST: LOOPBACK,
    PUBLIC_BASE_URL: `http://${LOOPBACK}:${port}`,
    SESSION_SECRET: "bench-session-secret-0123456789abcdef",
    DATABASE_URL: `file:${path.join(dir, "bench.db")}`,
    DEMO_DATA: "false",
    LOG_LEVEL: "warn",
    WHATSAPP_WEB_ENABLED: mode === "on" ? "true" : "false",
    WHATSAPP_WEB_DATA_DIR: path.join(dir, "whatsapp-web"),
    ...(process.env.CHROMIUM_PATH ? { CHROMIUM_PATH: process.env.CHROMIUM_PATH } : {}),
  };
  const child = startChild({ name: `server (${mode} #${n})`, command: command.command, args: command.args, env, port, logFile: path.join(dir, "server.log") });
  try {
    const healthyMs = await waitForHealth(child, 120_000);
    const rssAtHealthyMiB = readProc(child.pid)?.rssMiB ?? 0;
    let childrenPeakMiB = 0;
    let childrenMax = 0;
    const until = Date.now() + WATCH_MS;
    while (Date.now() < until) {
      const tree = descendants(child.pid);
      childrenPeakMiB = Math.max(childrenPeakMiB, tree.rssMiB);
      childrenMax = Math.max(childrenMax, tree.count);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const peakRssMiB = readProc(child.pid)?.peakRssMiB ?? 0;
    const health = await healthz(port);
    const channel = health?.whatsappWeb as { state?: string } | undefined;
    return { healthyMs, rssAtHealthyMiB, peakRssMiB, childrenPeakMiB, childrenMax, whatsappWeb: channel?.state ?? "absent" };
  } finally {
    await child.stop(20_000);
    await removeDir();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main() {
  const command = serverCommand();
  console.log(`bench:whatsapp-web — ${command.label}, ${ROUNDS} rounds per mode, ${WATCH_MS / 1000} s watched after healthy`);
  const results: Record<"off" | "on", Round[]> = { off: [], on: [] };
  for (let n = 1; n <= ROUNDS; n++) {
    for (const mode of ["off", "on"] as const) {
      const r = await round(mode, n, command);
      results[mode].push(r);
      console.log(
        `  ${mode.padEnd(3)} #${n}: healthy after ${r.healthyMs} ms, server RSS ${r.rssAtHealthyMiB.toFixed(0)} MiB (peak ${r.peakRssMiB.toFixed(0)}), children peak PSS ${r.childrenPeakMiB.toFixed(0)} MiB in ${r.childrenMax} processes, channel: ${r.whatsappWeb}`,
      );
    }
  }
  console.log("\nmedians                       off        on");
  const row = (label: string, pick: (r: Round) => number, unit: string) =>
    console.log(`  ${label.padEnd(26)} ${`${median(results.off.map(pick)).toFixed(0)} ${unit}`.padStart(9)} ${`${median(results.on.map(pick)).toFixed(0)} ${unit}`.padStart(9)}`);
  row("time to healthy", (r) => r.healthyMs, "ms");
  row("server RSS when healthy", (r) => r.rssAtHealthyMiB, "MiB");
  row("server peak RSS", (r) => r.peakRssMiB, "MiB");
  row("Chromium (children) peak PSS", (r) => r.childrenPeakMiB, "MiB");
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
