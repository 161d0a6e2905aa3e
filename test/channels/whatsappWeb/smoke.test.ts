import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhatsAppWebClient } from "../../../src/channels/whatsappWeb/client.js";
import { createLibraryClient, profileDir } from "../../../src/channels/whatsappWeb/library.js";

/**
 * Opt-in (WHATSAPP_WEB_SMOKE=1): launches the real whatsapp-web.js client and Debian's Chromium
 * (CHROMIUM_PATH, default /usr/bin/chromium) on a fresh profile. Online it should show a QR code;
 * offline, initialize() should fail with Chromium's network error. Either way, destroy() must leave
 * no browser process behind.
 */

const SETTLE_MS = 60_000;
const DESTROY_MS = 20_000;
const GONE_MS = 5_000;
/** Chromium's own words for "no network" (net/base/net_error_list.h). */
const NETWORK_ERROR = /net::ERR_(NAME_NOT_RESOLVED|NAME_RESOLUTION_FAILED|INTERNET_DISCONNECTED|ADDRESS_UNREACHABLE|CONNECTION_(REFUSED|RESET|CLOSED|TIMED_OUT|FAILED)|TIMED_OUT|NETWORK_(CHANGED|ACCESS_DENIED)|PROXY_CONNECTION_FAILED|TUNNEL_CONNECTION_FAILED)\b/;

type Outcome = { type: "qr"; qr: string } | { type: "initialized" } | { type: "rejected"; error: unknown } | { type: "timeout" };

interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

/** The running processes (not zombies). */
async function processes(): Promise<Proc[]> {
  const { stdout } = await promisify(execFile)("ps", ["-eo", "pid=,ppid=,stat=,args="], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    // A zombie (Z) has exited: only its parent's bookkeeping is left.
    if (!match || match[3]?.startsWith("Z")) return [];
    return [{ pid: Number(match[1]), ppid: Number(match[2]), args: match[4] ?? "" }];
  });
}

/** The browser processes this test started: their command line names our profile, or they descend from this process. */
async function ourBrowsers(dataDir: string): Promise<Proc[]> {
  const all = await processes();
  const parent = new Map(all.map((p) => [p.pid, p.ppid]));
  const descendsFromUs = (pid: number) => {
    for (let at = parent.get(pid), hops = 0; at !== undefined && at > 1 && hops < 64; at = parent.get(at), hops++) if (at === process.pid) return true;
    return false;
  };
  return all.filter((p) => /chrom/i.test(p.args) && (p.args.includes(dataDir) || descendsFromUs(p.pid)));
}

/** Polls until none of our browser processes is left, or `ms` passed: what is left then. */
async function untilNoBrowsers(dataDir: string, ms: number): Promise<Proc[]> {
  let left = await ourBrowsers(dataDir);
  for (const deadline = Date.now() + ms; left.length > 0 && Date.now() < deadline; left = await ourBrowsers(dataDir)) await new Promise((resolve) => setTimeout(resolve, 200));
  return left;
}

const describeProcs = (procs: Proc[]) => procs.map((p) => `${p.pid} ${p.args.slice(0, 120)}`).join("\n");

function within<T>(ms: number, work: Promise<T>, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

describe.skipIf(!process.env.WHATSAPP_WEB_SMOKE)("smoke: the real whatsapp-web.js client and Chromium", () => {
  const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wweb-smoke-"));
  });

  afterAll(async () => {
    // Whatever went wrong above, no browser of ours outlives the run (only ours: see ourBrowsers).
    for (const p of await ourBrowsers(dataDir)) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await untilNoBrowsers(dataDir, GONE_MS);
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    "launches Chromium, shows a QR code or fails with a network error, and destroy() leaves no browser behind",
    { timeout: 120_000 },
    async () => {
      expect(await ourBrowsers(dataDir), "browsers on a profile that did not exist yet").toEqual([]);
      const started = Date.now();
      const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

      const client: WhatsAppWebClient = await createLibraryClient({ chromiumPath, dataDir, clientId: "smoke" });
      const qr = new Promise<Outcome>((resolve) => client.on("qr", (code) => resolve({ type: "qr", qr: code })));
      const initialized = client.initialize().then(
        (): Outcome => ({ type: "initialized" }),
        (error: unknown): Outcome => ({ type: "rejected", error }),
      );
      const outcome = await within(SETTLE_MS, Promise.race([qr, initialized]), { type: "timeout" });
      const browsers = await ourBrowsers(dataDir);
      const detail =
        outcome.type === "qr"
          ? `waiting for QR (code of ${outcome.qr.length} characters)`
          : outcome.type === "rejected"
            ? `initialize() rejected: ${outcome.error instanceof Error ? `${outcome.error.name}: ${outcome.error.message}` : String(outcome.error)}`
            : outcome.type === "initialized"
              ? "initialize() resolved without a QR code"
              : `initialize() neither showed a QR code nor settled within ${SETTLE_MS / 1000} s`;
      console.info(`[smoke] after ${seconds()} s: ${detail}; ${browsers.length} Chromium processes running`);

      const destroyed = await within(
        DESTROY_MS,
        client.destroy().then(
          () => "ok",
          (error: unknown) => `destroy() rejected: ${error instanceof Error ? error.message : String(error)}`,
        ),
        `destroy() did not settle within ${DESTROY_MS / 1000} s`,
      );
      const left = await untilNoBrowsers(dataDir, GONE_MS);
      console.info(`[smoke] destroy: ${destroyed}; after ${seconds()} s, ${left.length} of our Chromium processes left`);

      // The browser did run, on the profile LocalAuth names (that is where the lock lives).
      expect(browsers.length, `no Chromium process of ours was running (${detail})`).toBeGreaterThan(0);
      expect(browsers.some((p) => p.args.includes(profileDir({ dataDir, clientId: "smoke" }))), describeProcs(browsers)).toBe(true);
      // Online: a QR code to scan. Offline: Chromium's network error, not just any error.
      if (outcome.type === "rejected") expect(outcome.error instanceof Error ? outcome.error.message : String(outcome.error)).toMatch(NETWORK_ERROR);
      else expect(outcome.type, detail).toBe("qr");
      expect(destroyed).toBe("ok");
      expect(left, `Chromium processes left ${GONE_MS / 1000} s after destroy():\n${describeProcs(left)}`).toEqual([]);
    },
  );
});
