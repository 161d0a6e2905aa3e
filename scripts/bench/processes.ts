/**
 * Child processes of the benchmark: the project server and the floor server, started directly with
 * `node` (no npm or tsx wrapper processes) so that the pid we hold is the process that serves, and
 * its RSS and CPU time can be read from /proc. Everything started here is registered for clean-up.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
/** The only address the benchmark ever connects to or listens on. */
export const LOOPBACK = "127.0.0.1";

// ---------------------------------------------------------------------------------------------
// Clean-up registry: every child, temporary folder and database, undone on exit, error or Ctrl-C.

type Undo = { label: string; run: () => Promise<void> | void };
const undos: Undo[] = [];

/** Registers something to undo; returns a function that undoes it now (and unregisters it). */
export function onCleanup(label: string, run: () => Promise<void> | void): () => Promise<void> {
  const undo: Undo = { label, run };
  undos.push(undo);
  return async () => {
    const i = undos.indexOf(undo);
    if (i < 0) return;
    undos.splice(i, 1);
    await undo.run();
  };
}

/** Undoes everything still registered, newest first; never throws. */
export async function cleanupAll(): Promise<void> {
  while (undos.length > 0) {
    const undo = undos.pop()!;
    try {
      await undo.run();
    } catch (error) {
      console.error(`bench: clean-up "${undo.label}" failed:`, error instanceof Error ? error.message : error);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// How the project server is started. The one place to change when `npm start` changes.

export interface ServerCommand {
  command: string;
  args: string[];
  /** What is run, for the table and results.json. */
  label: string;
}

/** What `npm start` passes to node after its build (package.json's start script): flags, then the entry. */
export function startScriptNodeArgs(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const node = /exec node ((?:--[\w-]+(?:=\S+)? )*)(\S+)$/.exec(start);
  if (!node) throw new Error(`package.json's start script no longer ends with "exec node [flags] entry": ${start}`);
  return [...node[1]!.trim().split(/\s+/).filter(Boolean), node[2]!];
}

/**
 * The server process exactly as `npm start` runs it, minus npm's wrapper process (which would hide
 * the real server's RSS): node with the start script's flags and entry, after the same cached build.
 * `nodeFlags` go first (e.g. --cpu-prof).
 */
export function serverCommand(nodeFlags: string[] = []): ServerCommand {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  const args = startScriptNodeArgs();
  return { command: process.execPath, args: [...nodeFlags, ...args.slice(0, -1), path.join(ROOT, args.at(-1)!)], label: `node ${args.join(" ")}` };
}

// ---------------------------------------------------------------------------------------------
// /proc readings.

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcReading {
  /** Resident set size now, MiB. */
  rssMiB: number;
  /** Peak resident set size since the process started (VmHWM), MiB. */
  peakRssMiB: number;
  /** User + system CPU time since the process started, ms. */
  cpuMs: number;
}

/** RSS, peak RSS and CPU time of a live process, from /proc; undefined once it has gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime (14) + stime (15)
    return { rssMiB: kib("VmRSS") / 1024, peakRssMiB: kib("VmHWM") / 1024, cpuMs: (ticks * 1000) / ticksPerSecond() };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Starting, watching and stopping a child.

/** A free TCP port on the loopback address. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, LOOPBACK);
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Child {
  name: string;
  pid: number;
  port: number;
  process: ChildProcess;
  /** The last lines the process wrote (stdout and stderr), for the report. */
  tail: string[];
  /** Log lines at warn (40) or above, and unparsed output, counted. */
  warnings: number;
  errors: number;
  /** A few distinct warning/error messages (with how often, and one whole line), for the report. */
  samples: Map<string, { count: number; example: string }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`); says whether it exited by itself. */
  stop: (graceMs?: number) => Promise<{ graceful: boolean; code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export function startChild(options: { name: string; command: string; args: string[]; env: Record<string, string>; port: number; logFile: string }): Child {
  const child = spawn(options.command, options.args, { cwd: ROOT, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
  const log = createWriteStream(options.logFile, { flags: "a" });
  const tail: string[] = [];
  const result: Child = {
    name: options.name,
    pid: child.pid,
    port: options.port,
    process: child,
    tail,
    warnings: 0,
    errors: 0,
    samples: new Map(),
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
    stop: async () => ({ graceful: true, code: 0, signal: null, ms: 0 }),
  };
  let pending = "";
  const onData = (data: Buffer) => {
    log.write(data);
    pending += data.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      let level = 40;
      let message = line;
      try {
        const parsed = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        level = parsed.level ?? 40;
        message = `${parsed.msg ?? ""}${parsed.err?.message ? `: ${parsed.err.message}` : ""}`;
      } catch {
        // Not a pino line (a crash, a console.error): count it as a warning.
      }
      if (level >= 50) result.errors++;
      else if (level >= 40) result.warnings++;
      if (level >= 40) {
        const key = message.slice(0, 240);
        const seen = result.samples.get(key);
        if (seen) seen.count++;
        else if (result.samples.size < 20) result.samples.set(key, { count: 1, example: line.slice(0, 4000) });
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  void result.exited.then(() => log.end());

  let stopping: ReturnType<Child["stop"]> | undefined;
  result.stop = (graceMs = 20_000) => {
    stopping ??= (async () => {
      const started = Date.now();
      if (child.exitCode !== null || child.signalCode !== null) {
        const { code, signal } = await result.exited;
        return { graceful: false, code, signal, ms: 0 };
      }
      child.kill("SIGTERM");
      const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
      const outcome = await Promise.race([result.exited, timer]);
      if (outcome === "timeout") {
        child.kill("SIGKILL");
        const { code, signal } = await result.exited;
        return { graceful: false, code, signal, ms: Date.now() - started };
      }
      return { graceful: outcome.code === 0, code: outcome.code, signal: outcome.signal, ms: Date.now() - started };
    })();
    return stopping;
  };
  onCleanup(`stop ${options.name} (pid ${child.pid})`, async () => {
    await result.stop(5_000);
  });
  return result;
}

/** GET http://127.0.0.1:port/healthz until it answers 200; fails if the child exits or time runs out. */
export async function waitForHealth(child: Child, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let exited = false;
  void child.exited.then(() => (exited = true));
  const attempts = Math.ceil(timeoutMs / 200);
  for (let i = 0; i < attempts; i++) {
    if (exited) throw new Error(`${child.name} exited before it was healthy:\n${child.tail.slice(-15).join("\n")}`);
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: LOOPBACK, port: child.port, path: "/healthz", timeout: 2_000, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(0));
    });
    if (status === 200) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${child.name} was not healthy after ${timeoutMs} ms:\n${child.tail.slice(-15).join("\n")}`);
}
