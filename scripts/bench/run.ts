/**
 * `npm run bench [-- --residents 40 --rounds 3 --seconds 10 --quick --profile]` — issue 8's benchmark
 * (a measurement, not a test: it exits 0 whatever the numbers say).
 *
 * On this machine, in one run: a minimal node:http "floor" server (signature check + fixed TwiML,
 * scripts/bench/floor.mjs) and the project server as separate child processes — SQLite in a fresh
 * temporary folder, one instance then two on the same file; then, when BENCH_DATABASE_URL names a
 * PostgreSQL server, a fresh database per target (created from that URL, dropped after), one instance
 * then two. Each target is driven by the same signed Twilio traffic (scripts/bench/load.ts), in rounds
 * alternating floor / server / floor / server so machine noise hits both alike. Prints messages/s, p50,
 * p99, peak RSS (VmHWM) and CPU ms per message of the server process(es), the ratio to the floor, and
 * issue 8's targets with PASS/FAIL; writes bench/results.json with every round's raw numbers.
 *
 * `--profile` starts the servers with --cpu-prof (profiles in bench/profiles/, written when the server
 * exits on SIGTERM) and prints the top self-time functions of each target.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { errorCount, FILING, percentile, runRound, type RoundResult } from "./load.js";
import { cleanupAll, freePort, LOOPBACK, onCleanup, readProc, ROOT, serverCommand, startChild, waitForHealth, type Child } from "./processes.js";
import { summariseProfiles, type ProfileSummary } from "./profile.js";

// ---------------------------------------------------------------------------------------------
// Options.

const { values } = parseArgs({
  options: {
    residents: { type: "string" },
    rounds: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    "request-timeout": { type: "string", default: "30" },
    quick: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    out: { type: "string", default: "bench/results.json" },
    targets: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`npm run bench -- [options]
  --residents N         simulated residents at once (default 40; --quick: 10)
  --rounds N            measured rounds per target, each for the floor and the server (default 3; --quick: 1)
  --seconds S           length of a round (default 10; --quick: 5)
  --warmup S            unmeasured warm-up per server start (default 3; --quick: 2)
  --request-timeout S   a message unanswered this long is an error (default 30)
  --profile             run the servers with --cpu-prof (bench/profiles/) and print the top self-time functions
  --out FILE            where to write the results (default bench/results.json)
  --targets LIST        only these, e.g. sqlite1,postgres2 (default: sqlite1,sqlite2 and, with BENCH_DATABASE_URL, postgres1,postgres2)
  --quick               smoke run: 10 residents, 1 round of 5 s
env BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres adds PostgreSQL targets (a fresh database each).`);
  process.exit(0);
}

function wholeNumber(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of at least ${min}, got "${value}"`);
  return n;
}
const quick = values.quick;
const options = {
  residents: Math.floor(wholeNumber("residents", values.residents, quick ? 10 : 40, 1)),
  rounds: Math.floor(wholeNumber("rounds", values.rounds, quick ? 1 : 3, 1)),
  seconds: wholeNumber("seconds", values.seconds, quick ? 5 : 10, 1),
  warmupSeconds: wholeNumber("warmup", values.warmup, quick ? 2 : 3, 0),
  requestTimeoutSeconds: wholeNumber("request-timeout", values["request-timeout"], 30, 1),
  quick,
  profile: values.profile,
  postgres: Boolean(process.env.BENCH_DATABASE_URL),
  targets: values.targets ?? null,
};

/** PostgreSQL server to create the benchmark databases on: loopback only. */
function benchDatabaseUrl(): URL | undefined {
  const raw = process.env.BENCH_DATABASE_URL;
  if (!raw) return undefined;
  const url = new URL(raw);
  if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error("BENCH_DATABASE_URL must be a postgresql:// URL");
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new Error(`BENCH_DATABASE_URL must point at this machine (127.0.0.1), not ${url.hostname}`);
  url.hostname = LOOPBACK;
  return url;
}

// ---------------------------------------------------------------------------------------------
// Shared settings of every server the bench starts.

const AUTH_TOKEN = randomBytes(16).toString("hex");
const PUBLIC_BASE_URL = "https://baladiya.example.org";
const SIGNED_URL = `${PUBLIC_BASE_URL}/webhooks/twilio`;
const PROFILE_DIR = path.join(ROOT, "bench", "profiles");

/** A clean environment: nothing from this shell or a .env file leaks into the server. */
function serverEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[key]) env[key] = process.env[key]!;
  // Every configuration key blank (= unset) unless set below; blank also wins over a .env file.
  for (const file of [".env.example", ".env"]) {
    try {
      for (const m of readFileSync(path.join(ROOT, file), "utf8").matchAll(/^\s*([A-Z][A-Z0-9_]*)\s*=/gm)) env[m[1]!] = "";
    } catch {
      // no such file
    }
  }
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Targets.

type Db = "sqlite" | "postgres";
interface Target {
  name: string;
  db: Db;
  instances: number;
}

interface Measured {
  target: string;
  kind: "floor" | "server";
  round: number;
  startedAt: string;
  loadavg: number[];
  messages: number;
  ok: number;
  okInWindow: number;
  filings: number;
  elapsedMs: number;
  drainMs: number;
  messagesPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  maxMs: number;
  cpuMs: number;
  cpuMsPerMessage: number;
  processes: Array<{ name: string; pid: number; cpuMs: number; peakRssMiB: number; maxSampledRssMiB: number }>;
  errors: RoundResult["errors"];
  errorCount: number;
  errorSamples: string[];
  /** Latency per message of the filing (1st: describing the problem, 2nd: "1", 3rd: the place, 4th: "1" = confirm). */
  steps: Array<{ message: string; count: number; p50: number; p99: number; maxMs: number }>;
  /** When the round ran, CLOCK_MONOTONIC µs (as in .cpuprofile timestamps). */
  window: [number, number];
  /** Not in results.json (too big): pooled for the percentiles. */
  latencies?: number[];
}

/** Runs one round against `children` and reads their CPU time and RSS around it. */
async function measure(target: string, kind: "floor" | "server", round: number, children: Child[], seconds: number): Promise<Measured> {
  const before = children.map((c) => readProc(c.pid));
  const maxRss = children.map(() => 0);
  const sampler = setInterval(() => {
    children.forEach((c, i) => (maxRss[i] = Math.max(maxRss[i]!, readProc(c.pid)?.rssMiB ?? 0)));
  }, 200);
  const startedAt = new Date().toISOString();
  const loadavg = os.loadavg();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  let result: RoundResult;
  try {
    result = await runRound({
      ports: children.map((c) => c.port),
      residents: options.residents,
      seconds,
      authToken: AUTH_TOKEN,
      signedUrl: SIGNED_URL,
      requestTimeoutMs: options.requestTimeoutSeconds * 1000,
    });
  } finally {
    clearInterval(sampler);
  }
  const after = children.map((c) => readProc(c.pid));
  const window: [number, number] = [fromUs, Number(process.hrtime.bigint() / 1000n)];
  const processes = children.map((c, i) => {
    const cpuMs = (after[i]?.cpuMs ?? 0) - (before[i]?.cpuMs ?? 0);
    return { name: c.name, pid: c.pid, cpuMs, peakRssMiB: after[i]?.peakRssMiB ?? Number.NaN, maxSampledRssMiB: Math.max(maxRss[i]!, after[i]?.rssMiB ?? 0) };
  });
  const cpuMs = processes.reduce((a, p) => a + p.cpuMs, 0);
  const l = result.latencies;
  return {
    target,
    kind,
    round,
    startedAt,
    loadavg,
    messages: result.messages,
    ok: result.ok,
    okInWindow: result.okInWindow,
    filings: result.filings,
    elapsedMs: result.elapsedMs,
    drainMs: result.drainMs,
    messagesPerSecond: result.messagesPerSecond,
    p50: percentile(l, 50),
    p90: percentile(l, 90),
    p99: percentile(l, 99),
    maxMs: l.length ? l[l.length - 1]! : Number.NaN,
    cpuMs,
    cpuMsPerMessage: result.ok > 0 ? cpuMs / result.ok : Number.NaN,
    processes,
    errors: result.errors,
    errorCount: errorCount(result.errors),
    errorSamples: result.errorSamples,
    steps: result.latenciesByStep.map((l, i) => ({ message: FILING[i]!, count: l.length, p50: percentile(l, 50), p99: percentile(l, 99), maxMs: l.length ? l[l.length - 1]! : Number.NaN })),
    window,
    latencies: l,
  };
}

/** Pools rounds: messages/s over the total time, percentiles over every latency. */
function pool(rounds: Measured[]) {
  const latencies = rounds.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  const ok = rounds.reduce((a, r) => a + r.ok, 0);
  const okInWindow = rounds.reduce((a, r) => a + r.okInWindow, 0);
  const elapsed = rounds.reduce((a, r) => a + r.elapsedMs, 0);
  const cpu = rounds.reduce((a, r) => a + r.cpuMs, 0);
  const peaks = new Map<string, number>();
  for (const r of rounds) for (const p of r.processes) peaks.set(p.name, Math.max(peaks.get(p.name) ?? 0, p.peakRssMiB));
  return {
    rounds: rounds.length,
    messages: rounds.reduce((a, r) => a + r.messages, 0),
    ok,
    filings: rounds.reduce((a, r) => a + r.filings, 0),
    errors: rounds.reduce((a, r) => a + r.errorCount, 0),
    messagesPerSecond: elapsed > 0 ? (okInWindow * 1000) / elapsed : 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuMsPerMessage: ok > 0 ? cpu / ok : Number.NaN,
    peakRssMiB: [...peaks.values()],
  };
}
type Pooled = ReturnType<typeof pool>;

// ---------------------------------------------------------------------------------------------
// Databases.

async function prepareDatabase(target: Target, tmpRoot: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (target.db === "sqlite") {
    const dir = mkdtempSync(path.join(tmpRoot, `${target.db}-x${target.instances}-`));
    return { url: `file:${path.join(dir, "bench.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = benchDatabaseUrl()!;
  const name = `baladiya_bench_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const drop = onCleanup(`drop database ${name}`, () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(server.toString());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}

/** Which code was measured: the commit, and how many files under src/, prisma/ differ from it. */
function gitState(): { commit: string; dirtyFiles: number } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "prisma", "package.json"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean).length;
    return { commit, dirtyFiles: dirty };
  } catch {
    return { commit: "unknown", dirtyFiles: 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting.

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
const ratio = (n: number) => (Number.isFinite(n) ? (n >= 10 ? `${n.toFixed(0)}×` : n >= 1 ? `${n.toFixed(1)}×` : n >= 0.1 ? `${n.toFixed(2)}×` : `${n.toPrecision(2)}×`) : "–");

function table(headers: string[], rows: string[][], rightFrom = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= rightFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const sep = `|${widths.map((w, i) => (i >= rightFrom ? `${"-".repeat(w + 1)}:` : `${"-".repeat(w + 2)}`)).join("|")}|`;
  return [line(headers), sep, ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The run.

async function main() {
  benchDatabaseUrl(); // fail early on a bad URL
  const command = serverCommand(options.profile ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] : []);
  const targets: Target[] = [
    { name: "sqlite×1", db: "sqlite", instances: 1 },
    { name: "sqlite×2", db: "sqlite", instances: 2 },
    ...(options.postgres
      ? ([
          { name: "postgres×1", db: "postgres", instances: 1 },
          { name: "postgres×2", db: "postgres", instances: 2 },
        ] as Target[])
      : []),
  ];
  if (values.targets) {
    const key = (name: string) => name.toLowerCase().replace(/[×x\-_\s]/g, "");
    const wanted = values.targets.split(",").map(key);
    const unknown = wanted.filter((w) => !targets.some((t) => key(t.name) === w));
    if (unknown.length) throw new Error(`--targets: unknown ${unknown.join(", ")} (have ${targets.map((t) => key(t.name)).join(", ")}${options.postgres ? "" : "; postgres1 and postgres2 need BENCH_DATABASE_URL"})`);
    targets.splice(0, targets.length, ...targets.filter((t) => wanted.includes(key(t.name))));
  }
  const cpus = os.cpus();
  const machine = { cpuModel: cpus[0]?.model ?? "unknown", cpus: cpus.length, totalMemMiB: Math.round(os.totalmem() / 2 ** 20), platform: `${os.type()} ${os.release()}`, node: process.version };
  const date = new Date().toISOString();
  const git = gitState();
  console.log(`Baladiya benchmark (issue 8) — ${date}`);
  console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemMiB} MiB, node ${machine.node}, load average ${os.loadavg().map(f2).join(" ")}`);
  console.log(`code: ${git.commit.slice(0, 12)}${git.dirtyFiles ? ` + ${git.dirtyFiles} uncommitted change(s) in src/, prisma/, package.json` : ""}`);
  console.log(`server: ${command.label} (NODE_ENV=production, LOG_LEVEL=warn, DEMO_DATA=false)`);
  console.log(`load: ${options.residents} residents at once, each filing a request over SMS (4 signed webhooks), closed loop; ${options.rounds} round(s) of ${options.seconds} s per target, floor and server alternating`);
  if (options.profile) console.log(`profiling: --cpu-prof into ${path.relative(ROOT, PROFILE_DIR)}/`);
  console.log("");

  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "baladiya-bench-"));
  onCleanup(`remove ${tmpRoot}`, () => rmSync(tmpRoot, { recursive: true, force: true }));
  if (options.profile) mkdirSync(PROFILE_DIR, { recursive: true });

  // The floor, up for the whole run.
  const floorPort = await freePort();
  const floor = startChild({
    name: "floor",
    command: process.execPath,
    args: [path.join(ROOT, "scripts", "bench", "floor.mjs")],
    env: serverEnv({ BENCH_FLOOR_PORT: String(floorPort), TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL }),
    port: floorPort,
    logFile: path.join(tmpRoot, "floor.log"),
  });
  await waitForHealth(floor, 30_000);
  if (options.warmupSeconds > 0) await measure("floor", "floor", 0, [floor], options.warmupSeconds);

  const rounds: Measured[] = [];
  const perTarget: Array<{
    target: Target;
    server: Pooled;
    floor: Pooled;
    startupMs: number[];
    stops: Array<{ name: string; graceful: boolean; code: number | null; signal: string | null; ms: number }>;
    logs: Array<{ name: string; warnings: number; errors: number; samples: Array<{ message: string; count: number; example: string }> }>;
    profile?: ProfileSummary;
    profileProblem?: string;
  }> = [];

  for (const target of targets) {
    const db = await prepareDatabase(target, tmpRoot);
    const instances: Child[] = [];
    const startupMs: number[] = [];
    const startedAt = Date.now();
    // One after the other: the first applies the migrations, the second finds them done.
    for (let i = 0; i < target.instances; i++) {
      const port = await freePort();
      const child = startChild({
        name: `${target.name}#${i + 1}`,
        command: command.command,
        args: command.args,
        env: serverEnv({
          NODE_ENV: "production",
          HOST: LOOPBACK,
          PORT: String(port),
          DATABASE_URL: db.url,
          PUBLIC_BASE_URL,
          TWILIO_AUTH_TOKEN: AUTH_TOKEN,
          DEMO_DATA: "false",
          LOG_LEVEL: "warn",
          SESSION_SECRET: randomBytes(32).toString("hex"),
        }),
        port,
        logFile: path.join(tmpRoot, `${target.db}-x${target.instances}-${i + 1}.log`),
      });
      instances.push(child);
      startupMs.push(await waitForHealth(child, 180_000));
    }
    console.log(`${target.name}: started (${instances.map((c) => `pid ${c.pid}, port ${c.port}`).join("; ")}) in ${startupMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(" + ")}`);
    if (options.warmupSeconds > 0) {
      const w = await measure(target.name, "server", 0, instances, options.warmupSeconds);
      console.log(`  warm-up: ${f1(w.messagesPerSecond)} msg/s, ${w.errorCount} errors`);
      for (const e of w.errorSamples.slice(0, 3)) console.log(`      ! ${e}`);
    }

    const mine: Measured[] = [];
    for (let r = 1; r <= options.rounds; r++) {
      for (const kind of ["floor", "server"] as const) {
        const m = await measure(target.name, kind, r, kind === "floor" ? [floor] : instances, options.seconds);
        mine.push(m);
        rounds.push(m);
        console.log(
          `  round ${r}/${options.rounds} ${kind.padEnd(6)} ${f1(m.messagesPerSecond).padStart(7)} msg/s  p50 ${f1(m.p50).padStart(6)} ms  p99 ${f1(m.p99).padStart(6)} ms  CPU ${f2(m.cpuMsPerMessage)} ms/msg  ${m.filings} filed  ${m.errorCount} errors${m.drainMs > 1000 ? `  (+${f1(m.drainMs / 1000)} s to finish filings under way)` : ""}`,
        );
        if (kind === "server") console.log(`      p50/p99 by message of the filing: ${m.steps.map((st, i) => `#${i + 1} ${f0(st.p50)}/${f0(st.p99)} ms`).join(", ")}`);
        for (const s of m.errorSamples.slice(0, 3)) console.log(`      ! ${s}`);
      }
    }

    const stops = [];
    for (const child of instances) {
      const stop = await child.stop(30_000);
      stops.push({ name: child.name, ...stop });
      if (!stop.graceful) console.log(`  ! ${child.name} did not exit cleanly on SIGTERM (code ${stop.code}, signal ${stop.signal}, after ${stop.ms} ms)`);
    }
    await db.drop();
    const logs = instances.map((c) => ({ name: c.name, warnings: c.warnings, errors: c.errors, samples: [...c.samples].map(([message, s]) => ({ message, ...s })) }));
    for (const l of logs) if (l.errors + l.warnings > 0) console.log(`  ! ${l.name} logged ${l.errors} errors and ${l.warnings} warnings, e.g.\n${l.samples.slice(0, 4).map((s) => `      ×${s.count} ${s.message.replace(/\s+/g, " ").slice(0, 200)}`).join("\n")}`);

    let profile: ProfileSummary | undefined;
    let profileProblem: string | undefined;
    if (options.profile) {
      const files = readdirSync(PROFILE_DIR)
        .filter((f) => f.endsWith(".cpuprofile") && instances.some((c) => f.includes(`.${c.pid}.`)))
        .map((f) => path.join(PROFILE_DIR, f))
        .filter((f) => statSync(f).mtimeMs >= startedAt);
      if (files.length === 0) profileProblem = "no .cpuprofile was written (the server did not exit cleanly)";
      else {
        profile = summariseProfiles(files, 15, mine.filter((m) => m.kind === "server").map((m) => m.window));
        if (files.length < instances.length) profileProblem = `only ${files.length} of ${instances.length} processes wrote a profile`;
      }
    }
    perTarget.push({
      target,
      server: pool(mine.filter((m) => m.kind === "server")),
      floor: pool(mine.filter((m) => m.kind === "floor")),
      startupMs,
      stops,
      logs,
      ...(profile ? { profile } : {}),
      ...(profileProblem ? { profileProblem } : {}),
    });
    console.log("");
  }
  await floor.stop();

  // ---- the table
  const allFloor = pool(rounds.filter((m) => m.kind === "floor"));
  const rows: string[][] = [["floor", f0(allFloor.messagesPerSecond), f1(allFloor.p50), f1(allFloor.p99), f0(Math.max(...allFloor.peakRssMiB)), f2(allFloor.cpuMsPerMessage), "1×", "1×", String(allFloor.errors)]];
  const summary = perTarget.map((t) => {
    const throughputRatio = t.server.messagesPerSecond / t.floor.messagesPerSecond;
    const p99Ratio = t.server.p99 / t.floor.p99;
    rows.push([
      t.target.name,
      f0(t.server.messagesPerSecond),
      f1(t.server.p50),
      f1(t.server.p99),
      t.server.peakRssMiB.map(f0).join(" / "),
      f2(t.server.cpuMsPerMessage),
      ratio(throughputRatio),
      ratio(p99Ratio),
      String(t.server.errors),
    ]);
    return { name: t.target.name, throughputRatio, p99Ratio, ...t };
  });
  console.log(table(["target", "msgs/s", "p50 ms", "p99 ms", "peak RSS MiB", "CPU ms/msg", "msgs/s ÷ floor", "p99 ÷ floor", "errors"], rows));
  console.log(`ratios are to the floor rounds run alternately with each target; peak RSS is VmHWM of each server process (×2: each instance).`);

  // ---- issue 8's targets
  const checks: Array<{ target: string; check: string; value: string; pass: boolean }> = [];
  for (const s of summary) {
    if (s.target.db === "sqlite") checks.push({ target: s.name, check: "msgs/s ≥ 0.3× floor", value: ratio(s.throughputRatio), pass: s.throughputRatio >= 0.3 });
    if (s.target.db === "postgres") {
      const sqlite = summary.find((o) => o.target.db === "sqlite" && o.target.instances === s.target.instances);
      if (sqlite) {
        const r = s.server.messagesPerSecond / sqlite.server.messagesPerSecond;
        checks.push({ target: s.name, check: `msgs/s ≥ 0.5× ${sqlite.name}`, value: ratio(r), pass: r >= 0.5 });
      }
    }
    checks.push({ target: s.name, check: "p99 ≤ 3× floor's", value: ratio(s.p99Ratio), pass: s.p99Ratio <= 3 });
    const peak = Math.max(...s.server.peakRssMiB);
    checks.push({ target: s.name, check: "peak RSS ≤ 150 MiB", value: `${f0(peak)} MiB`, pass: peak <= 150 });
    const errors = s.server.errors;
    checks.push({ target: s.name, check: "no errors", value: String(errors), pass: errors === 0 });
  }
  console.log("\nissue 8's targets:");
  console.log(table(["target", "check", "measured", ""], checks.map((c) => [c.target, c.check, c.value, c.pass ? "PASS" : "FAIL"]), 2));

  // ---- profiles
  for (const s of summary) {
    if (!options.profile) break;
    console.log(
      `\nCPU profile, ${s.name}, during the measured server rounds: top 15 self time${s.profile ? ` (${f0(s.profile.busyMs)} ms of samples not idle over ${s.server.ok} messages, ${s.profile.files.length} profile file(s) — sampled wall time, so CPU contention inflates it)` : ""}`,
    );
    if (s.profileProblem) console.log(`  ! ${s.profileProblem}`);
    if (s.profile) {
      console.log(table(["function", "file", "self ms", "share"], s.profile.top.map((t) => [t.function, t.file, f0(t.selfMs), `${(t.share * 100).toFixed(1)}%`]), 2));
      console.log(`by file:`);
      console.log(table(["file", "self ms", "share"], s.profile.byFile.slice(0, 10).map((t) => [t.file, f0(t.selfMs), `${(t.share * 100).toFixed(1)}%`]), 1));
    }
  }

  // ---- results.json
  const out = path.resolve(ROOT, values.out);
  mkdirSync(path.dirname(out), { recursive: true });
  const results = {
    date,
    machine,
    git,
    loadavgAtEnd: os.loadavg(),
    options,
    server: { command: command.label, env: { NODE_ENV: "production", LOG_LEVEL: "warn", DEMO_DATA: "false" } },
    floor: { command: "node scripts/bench/floor.mjs", pooled: allFloor },
    targets: summary.map((s) => ({
      name: s.name,
      db: s.target.db,
      instances: s.target.instances,
      server: s.server,
      pairedFloor: s.floor,
      throughputRatio: s.throughputRatio,
      p99Ratio: s.p99Ratio,
      startupMs: s.startupMs,
      stops: s.stops,
      logs: s.logs,
      ...(s.profile ? { profile: { ...s.profile, files: s.profile.files.map((f) => path.relative(ROOT, f)) } } : {}),
      ...(s.profileProblem ? { profileProblem: s.profileProblem } : {}),
    })),
    checks,
    rounds: rounds.map(({ latencies: _latencies, ...r }) => r),
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, out)}`);
}

// ---------------------------------------------------------------------------------------------
// Clean-up on every way out.

let exiting = false;
async function bail(code: number, why: string) {
  if (exiting) return;
  exiting = true;
  console.error(`\nbench: ${why} — stopping servers, removing temporary files and databases…`);
  await cleanupAll();
  process.exit(code);
}
process.on("SIGINT", () => void bail(130, "interrupted"));
process.on("SIGTERM", () => void bail(143, "terminated"));
process.on("SIGHUP", () => void bail(129, "hung up"));
process.on("unhandledRejection", (e) => void bail(1, `unexpected error: ${e instanceof Error ? e.stack : String(e)}`));

try {
  await main();
  await cleanupAll();
} catch (error) {
  await bail(1, `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
