import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { startScriptNodeArgs } from "../scripts/bench/processes.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeSmsc, until } from "./channels/smpp/fakeSmsc.js";
import type { ChannelSender } from "../src/channels/sender.js";
import type { Db } from "../src/db/createDb.js";
import { createI18n } from "../src/i18n/createI18n.js";
import { renderNotification } from "../src/i18n/render.js";
import { drainOutbox, type DrainOutboxDeps } from "../src/jobs/drainOutbox.js";
import { scheduleJobs } from "../src/jobs/schedule.js";
import { gracefulShutdown, type ShutdownDeps } from "../src/lib/gracefulShutdown.js";
import { createTestDatabase, type TestDatabase } from "./support/testDb.js";
import { PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN, twilioPayload, twilioSignature } from "./support/twilio.js";

const root = path.join(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(os.tmpdir(), "baladiya-main-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type LogLine = Record<string, unknown> & { msg?: string };

/**
 * Runs `npm start` as an operator does (the cached build, then `node dist/main.js`), with only the
 * given configuration. `waitFor` resolves with the first log line whose message starts with `msg`.
 */
function npmStart(env: Record<string, string>) {
  const child = spawn("npm", ["start"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiting = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const check of waiting) check();
  });
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const logs = (): LogLine[] =>
    stdout.split("\n").flatMap((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        return typeof parsed === "object" && parsed !== null ? [parsed as LogLine] : [];
      } catch {
        return []; // npm's own lines
      }
    });
  const waitFor = (msg: string) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const line = logs().find((l) => l.msg?.startsWith(msg));
        if (!line) return;
        waiting.delete(check);
        resolve(line);
      };
      waiting.add(check);
      check();
      void exited.then((code) => reject(new Error(`exited with ${code} before "${msg}": ${JSON.stringify({ stdout, stderr })}`)));
    });
  return { child, exited, logs, waitFor, output: () => ({ stdout, stderr }) };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The parent of a process, from /proc (Linux). */
const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 connection on a plain socket, kept alive as Twilio's and browsers' are (the http
 * module's client is wrapped by nock in every test file, which changes how connections are kept).
 * `send` writes raw request text; `response` resolves with the next complete response (a
 * `100 Continue` counts as one); `closed` when the server ends the connection.
 */
async function connect(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, "connect");
  let buffer = Buffer.alloc(0);
  const waiting = new Set<() => void>();
  socket.on("data", (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    for (const check of waiting) check();
  });
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const response = () =>
    new Promise<RawResponse>((resolve, reject) => {
      const check = () => {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [statusLine = "", ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
        const length = Number(headers["content-length"] ?? 0);
        if (buffer.length < end + 4 + length) return;
        waiting.delete(check);
        resolve({ status: Number(statusLine.split(" ")[1]), headers, body: buffer.subarray(end + 4, end + 4 + length).toString("utf8") });
        buffer = buffer.subarray(end + 4 + length);
      };
      waiting.add(check);
      check();
      void closed.then(() => reject(new Error("the server closed the connection without an answer")));
    });
  return { send: (text: string) => socket.write(text), response, closed, destroy: () => socket.destroy() };
}

describe("npm start", () => {
  beforeAll(async () => {
    // One build for the file (a fresh clone's `npm ci` has already made it); `npm start` then finds dist/ up to date.
    await promisify(execFile)("npm", ["run", "build"], { cwd: root });
  }, 300_000);

  it("skips the build when dist/ is up to date", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json", "--dry", "--verbose"], { cwd: root });
    expect(stdout).toContain("is up to date");
  });

  it("runs the compiled app under plain node: migrates and seeds a fresh SQLite database, serves /healthz and the staff assets, and stops on SIGTERM", async () => {
    const server = npmStart({ PORT: "0", DATABASE_URL: `file:${path.join(dir, "fresh", "baladiya.db")}`, LOG_LEVEL: "info" });
    const listening = await server.waitFor("Baladiya is listening");
    const app = Number(listening.pid);
    try {
      expect(app).not.toBe(server.child.pid);
      if (existsSync("/proc/self/stat")) {
        // npm runs node itself (`exec`): no shell and no tsx in between to hold memory or swallow the signal.
        // With the heap sizes of package.json's start script (see the README's Benchmark section).
        expect(readFileSync(`/proc/${app}/cmdline`, "utf8").split("\0").filter(Boolean).slice(1)).toEqual(startScriptNodeArgs());
        expect(parentOf(app)).toBe(server.child.pid);
      }
      const url = String(listening.url);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok", routes: [] });
      // Non-code files stay in src/: dist/ serves them from there.
      const css = await fetch(`${url}/staff/assets/staff.css`);
      expect(css.status).toBe(200);
      expect(css.headers.get("content-type")).toContain("text/css");
      const messages = server.logs().map((l) => l.msg);
      expect(server.logs()).toContainEqual(expect.objectContaining({ categories: 10, msg: "seeded categories" }));
      expect(server.logs()).toContainEqual(expect.objectContaining({ tickets: 3, msg: "seeded demo data" }));
      expect(messages).toContain("seeded demo accounts from samples/");
      expect(messages).toContain("TWILIO_AUTH_TOKEN is not set: /webhooks/twilio answers 503 until it is");

      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.logs()).toContainEqual(expect.objectContaining({ pid: app, signal: "SIGTERM", msg: expect.stringMatching(/^shutting down/) }));
      expect(server.logs()).toContainEqual(expect.objectContaining({ pid: app, signal: "SIGTERM", msg: "stopped" }));
      expect(isAlive(app)).toBe(false);
    } finally {
      if (isAlive(app)) process.kill(app, "SIGKILL");
    }
  }, 120_000);

  it("with an operator's short code configured: binds to the SMSC, /healthz says it is ready, and SIGTERM unbinds before the exit", async () => {
    const smsc = await FakeSmsc.start();
    const server = npmStart({
      PORT: "0",
      DATABASE_URL: `file:${path.join(dir, "smpp", "baladiya.db")}`,
      LOG_LEVEL: "info",
      DEMO_DATA: "false",
      SMPP_URL: smsc.url,
      SMPP_SYSTEM_ID: "baladiya",
      SMPP_PASSWORD: "secret",
      SMPP_SOURCE_ADDR: "1555",
    });
    const listening = await server.waitFor("Baladiya is listening");
    const app = Number(listening.pid);
    try {
      await until(() => smsc.binds.some((b) => b.accepted), 10_000, "bind");
      // The bind's answer may still be on its way when the SMSC has seen the bind: ask until it is in.
      let routes: unknown[] = [];
      for (let i = 0; i < 50; i++) {
        routes = ((await (await fetch(`${String(listening.url)}/healthz`)).json()) as { routes: unknown[] }).routes;
        if (JSON.stringify(routes).includes("ready")) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(routes).toEqual([{ route: "smpp", state: "ready", since: expect.any(String) }]);
      expect(server.logs()).toContainEqual(expect.objectContaining({ routes: ["smpp"], msg: "sending through these routes" }));
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(smsc.received("unbind")).toHaveLength(1);
    } finally {
      if (isAlive(app)) process.kill(app, "SIGKILL");
      await smsc.close();
    }
  }, 120_000);

  it("with WhatsApp Web on and no browser to run: holds the session, /healthz says disconnected (retrying), and SIGTERM stops it cleanly", async () => {
    const server = npmStart({
      PORT: "0",
      DATABASE_URL: `file:${path.join(dir, "wweb", "baladiya.db")}`,
      LOG_LEVEL: "info",
      DEMO_DATA: "false",
      WHATSAPP_WEB_ENABLED: "true",
      WHATSAPP_WEB_DATA_DIR: path.join(dir, "wweb", "whatsapp-web"),
      CHROMIUM_PATH: path.join(dir, "no-chromium-here"),
    });
    const listening = await server.waitFor("Baladiya is listening");
    const app = Number(listening.pid);
    try {
      expect(server.logs()).toContainEqual(expect.objectContaining({ routes: ["whatsapp-web"], msg: "sending through these routes" }));
      expect(server.logs().some((l) => l.msg?.startsWith("WhatsApp Web is on: an unofficial client"))).toBe(true);
      await server.waitFor("this instance holds the WhatsApp Web session");
      let channel: { state?: string } | undefined;
      for (let i = 0; i < 100 && channel?.state !== "disconnected"; i++) {
        channel = ((await (await fetch(`${String(listening.url)}/healthz`)).json()) as { whatsappWeb?: { state: string } }).whatsappWeb;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(channel).toMatchObject({ state: "disconnected", stale: false });
      expect(server.logs()).toContainEqual(expect.objectContaining({ msg: "WhatsApp Web disconnected: reconnecting", detail: expect.stringContaining("no-chromium-here") }));
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(server.logs().some((l) => l.msg === "WhatsApp Web channel stopped")).toBe(true);
    } finally {
      if (isAlive(app)) process.kill(app, "SIGKILL");
    }
  }, 120_000);

  it("answers a webhook that is in progress when SIGTERM arrives, then exits 0", async () => {
    const server = npmStart({
      PORT: "0",
      DATABASE_URL: `file:${path.join(dir, "inflight", "baladiya.db")}`,
      LOG_LEVEL: "info",
      DEMO_DATA: "false",
      TWILIO_AUTH_TOKEN,
      PUBLIC_BASE_URL,
    });
    const listening = await server.waitFor("Baladiya is listening");
    const app = Number(listening.pid);
    try {
      const fields = twilioPayload("sms");
      const body = new URLSearchParams(fields).toString();
      const twilio = await connect(String(listening.url));
      twilio.send(
        [
          "POST /webhooks/twilio HTTP/1.1",
          "Host: baladiya.example.org",
          "Content-Type: application/x-www-form-urlencoded",
          `Content-Length: ${Buffer.byteLength(body)}`,
          `X-Twilio-Signature: ${twilioSignature(fields)}`,
          // The app answers "100 Continue" once it has the request's headers: from then on it is in progress, waiting for the body.
          "Expect: 100-continue",
          "",
          "",
        ].join("\r\n"),
      );
      expect((await twilio.response()).status).toBe(100);

      server.child.kill("SIGTERM");
      const stopping = await server.waitFor("shutting down");
      expect(stopping).toMatchObject({ signal: "SIGTERM", requests: 1 });
      twilio.send(body);

      const answer = await twilio.response();
      expect(answer.status).toBe(200);
      expect(answer.body).toContain("<Response>");
      // Answered, and then the connection is closed: it does not hold the stop for its keep-alive timeout.
      expect(answer.headers.connection).toBe("close");
      await twilio.closed;
      expect(await server.exited).toBe(0);
      expect(server.logs().map((l) => l.msg)).toContain("stopped");
      expect(isAlive(app)).toBe(false);
    } finally {
      if (isAlive(app)) process.kill(app, "SIGKILL");
    }
  }, 120_000);

  it("refuses a bad value and names the variable", async () => {
    const server = npmStart({ PORT: "eighty", DATABASE_URL: `file:${path.join(dir, "never.db")}` });
    expect(await server.exited).toBe(1);
    expect(server.output().stderr).toContain("PORT:");
    expect(server.output().stderr).not.toContain("    at ");
  }, 60_000);
});

/** A promise with its resolve outside, for a handler or a fake to wait on. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A few turns of the event loop: what is not done after them is waiting on something else. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe("gracefulShutdown", () => {
  /** A server on a free port with the stop prepared as main.ts does, a spy for exit and the logs. */
  async function serve(handler: http.RequestListener, options: Pick<ShutdownDeps, "graceMs" | "forceAfterMs"> = {}) {
    const server = http.createServer(handler);
    const lines: LogLine[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    const exited = deferred<number>();
    const deps = {
      server,
      jobs: { stop: vi.fn(async () => undefined), running: vi.fn((): string[] => []) },
      closeDatabase: vi.fn(async () => undefined),
      logger,
      exit: vi.fn((code: number) => exited.resolve(code)),
      ...options,
    };
    const shutdown = gracefulShutdown(deps);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    /** A GET on a new keep-alive connection. */
    const get = async (route: string) => {
      const connection = await connect(url);
      connection.send(`GET ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      return { ...connection, answered: connection.response() };
    };
    const cleanup = () => {
      server.closeAllConnections();
      server.close();
    };
    return { deps, shutdown, exited: exited.promise, url, get, lines, messages: () => lines.map((l) => l.msg), cleanup };
  }

  it("finishes a request in progress, refuses new connections, stops the jobs, closes the database and exits 0", async () => {
    const entered = deferred();
    const finish = deferred();
    const order: string[] = [];
    const app = await serve(async (req, res) => {
      if (req.url === "/slow") {
        entered.resolve();
        await finish.promise;
        order.push("answered");
      }
      res.end("done");
    });
    app.deps.jobs.stop.mockImplementation(async () => void order.push("jobs stopped"));
    app.deps.closeDatabase.mockImplementation(async () => void order.push("database closed"));
    const slow = await app.get("/slow");
    await entered.promise;

    const stopped = app.shutdown("SIGTERM");
    await expect(connect(app.url)).rejects.toThrow(/ECONNREFUSED/);
    await settle();
    expect(app.deps.exit).not.toHaveBeenCalled();
    expect(app.deps.closeDatabase).not.toHaveBeenCalled();

    finish.resolve();
    // Answered, then its connection is closed: kept alive, it would hold the stop for its keep-alive timeout.
    expect(await slow.answered).toMatchObject({ status: 200, headers: { connection: "close" }, body: "done" });
    await slow.closed;
    await stopped;
    expect(app.deps.exit.mock.calls).toEqual([[0]]);
    expect(order).toEqual(["jobs stopped", "answered", "database closed"]);
    expect(app.lines).toContainEqual(expect.objectContaining({ signal: "SIGTERM", requests: 1, msg: expect.stringMatching(/^shutting down/) }));
    expect(app.messages()).toContain("stopped");
  });

  it("closes idle keep-alive connections at once", async () => {
    const app = await serve((_req, res) => res.end("ok"), { graceMs: 3600_000, forceAfterMs: 3600_000 });
    const idle = await app.get("/");
    expect((await idle.answered).headers.connection).toBe("keep-alive");
    await app.shutdown("SIGTERM");
    await idle.closed;
    expect(app.deps.exit.mock.calls).toEqual([[0]]);
  });

  it("cuts requests and leaves job runs that outlast the grace period, then closes the database and exits 0", async () => {
    const entered = deferred();
    const app = await serve(() => entered.resolve() /* and never answers */, { graceMs: 50 });
    app.deps.jobs.stop.mockImplementation(() => new Promise<undefined>(() => undefined));
    app.deps.jobs.running.mockReturnValue(["drain-outbox"]);
    const hanging = await app.get("/");
    await entered.promise;
    await app.shutdown("SIGTERM");
    await expect(hanging.answered).rejects.toThrow("closed the connection without an answer");
    expect(app.deps.closeDatabase).toHaveBeenCalledOnce();
    expect(app.deps.exit.mock.calls).toEqual([[0]]);
    expect(app.messages()).toContain("requests still in progress after the grace period: closing their connections");
    expect(app.lines).toContainEqual(expect.objectContaining({ jobs: ["drain-outbox"], msg: expect.stringMatching(/^jobs still running after the grace period/) }));
  });

  it("exits 1 at once on a second signal, but not on the same signal repeated at once (Ctrl-C under npm arrives twice)", async () => {
    const entered = deferred();
    const app = await serve(() => entered.resolve());
    const hanging = await app.get("/");
    await entered.promise;
    void app.shutdown("SIGINT");
    void app.shutdown("SIGINT");
    expect(app.deps.exit).not.toHaveBeenCalled();
    void app.shutdown("SIGTERM");
    expect(app.deps.exit.mock.calls).toEqual([[1]]);
    expect(app.messages()).toContain("second signal while shutting down: exiting now");
    app.cleanup();
    await expect(hanging.answered).rejects.toThrow("closed the connection without an answer");
  });

  it("exits 1 when the stop itself hangs past forceAfterMs", async () => {
    const app = await serve((_req, res) => res.end(), { forceAfterMs: 50 });
    app.deps.closeDatabase.mockImplementation(() => new Promise<undefined>(() => undefined));
    void app.shutdown("SIGTERM");
    expect(await app.exited).toBe(1);
    expect(app.messages()).toContain("still not stopped: exiting now");
  });
});

describe("stopping the outbox worker", () => {
  let database: TestDatabase;
  const logger = pino({ level: "silent" });
  const outbox = { municipalityId: "qab-elias", render: renderNotification(createI18n()) };
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  let phones = 0;
  /** Staff replies waiting in the outbox, one per new resident, due now; their outbox ids. */
  async function queued(count: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const phone = `+9617${String(1000000 + ++phones).slice(1)}`;
      const resident = await database.db.resident.create({ data: { phone } });
      const message = await database.db.message.create({ data: { residentId: resident.id, direction: "outbound", channel: "sms", body: "the road is fixed", status: "queued", kind: "staff" } });
      const row = await database.db.outbox.create({
        data: { messageId: message.id, residentId: resident.id, channel: "sms", toAddress: phone, body: message.body, status: "pending", nextAttemptAt: new Date() },
      });
      ids.push(row.id);
    }
    return ids;
  }

  /** A provider that accepts everything, each send waiting for `gate` if given. */
  function provider(gate?: Promise<void>) {
    const started: number[] = [];
    const firstSend = deferred();
    const sender: ChannelSender = {
      send: async (request) => {
        started.push(request.outboxId);
        firstSend.resolve();
        await gate;
        return { status: "sent", providerMessageId: `SM${String(request.outboxId).padStart(32, "0")}` };
      },
      findAccepted: async () => null,
    };
    return { sender, started, firstSend: firstSend.promise };
  }

  const row = (id: number) => database.db.outbox.findUniqueOrThrow({ where: { id } });

  it("waits for the send in flight and records it, and claims no more rows", async () => {
    const [first, second] = await queued(2);
    const gate = deferred();
    const twilio = provider(gate.promise);
    // One send at a time: the second row waits for the first.
    const jobs = scheduleJobs({ outbox: { db: database.db, senders: { twilio: twilio.sender }, logger, outbox, concurrency: 1 }, reminders: null, accountsImport: null, logger });
    await twilio.firstSend; // the next tick of the 3-second schedule
    let stopped = false;
    const stopping = jobs.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    expect(jobs.running()).toEqual(["drain-outbox"]);

    gate.resolve();
    await stopping;
    expect(jobs.running()).toEqual([]);
    expect(twilio.started).toEqual([first]);
    expect(await row(first!)).toMatchObject({ status: "sent", providerMessageId: expect.stringMatching(/^SM/), leaseUntil: null });
    expect(await row(second!)).toMatchObject({ status: "pending", attempts: 0, claimId: null, leaseUntil: null });
  });

  it("gives back a row it claimed but had not started sending", async () => {
    const [id] = await queued(1);
    const before = await row(id!);
    const stop = new AbortController();
    const twilio = provider();
    // The stop comes while the worker looks the resident up: after its claim, before the send.
    const db = new Proxy(database.db, {
      get(target, key) {
        if (key !== "resident") return Reflect.get(target, key);
        return {
          findUniqueOrThrow: (args: Parameters<Db["resident"]["findUniqueOrThrow"]>[0]) => {
            stop.abort();
            return target.resident.findUniqueOrThrow(args);
          },
        };
      },
    });
    const worker: DrainOutboxDeps = { db, senders: { twilio: twilio.sender }, logger, outbox, signal: stop.signal };
    await drainOutbox(worker);
    expect(twilio.started).toEqual([]);
    expect(await row(id!)).toMatchObject({ status: "pending", attempts: 0, attemptStartedAt: null, leaseUntil: null, nextAttemptAt: before.nextAttemptAt });

    // The next run (here, or on another instance) sends it.
    await drainOutbox({ ...worker, db: database.db, signal: undefined });
    expect(twilio.started).toContain(id);
    expect(await row(id!)).toMatchObject({ status: "sent", attempts: 1 });
  });
});
