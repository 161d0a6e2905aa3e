import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearStaleLock, type LockVerdict } from "../../../src/channels/whatsappWeb/profileLock.js";

const LOCK_FILES = ["SingletonCookie", "SingletonLock", "SingletonSocket"];
const THIS_HOST = "baladiya-7f9c";
const DEAD_PID = 4242;
const LIVE_PID = 1717;
const alive = (pid: number) => pid === LIVE_PID;

let profile: string;

beforeEach(async () => {
  profile = await mkdtemp(path.join(tmpdir(), "wweb-profile-"));
  // Something that belongs to the linked session and must survive any verdict.
  await writeFile(path.join(profile, "Local State"), "{}");
});

afterEach(async () => {
  await rm(profile, { recursive: true, force: true });
});

/** What Chromium leaves while it runs: SingletonLock → "<host>-<pid>" (a dangling link), and its two companions. */
async function lockedBy(owner: string) {
  await symlink(owner, path.join(profile, "SingletonLock"));
  await symlink(path.join(tmpdir(), `org.chromium.Chromium.${owner}`, "SingletonSocket"), path.join(profile, "SingletonSocket"));
  await symlink("1234567890", path.join(profile, "SingletonCookie"));
}

const lockFilesLeft = async () => (await readdir(profile)).filter((name) => LOCK_FILES.includes(name)).sort();

describe("clearStaleLock", () => {
  it('answers "none" for a profile nobody locked, and touches nothing', async () => {
    expect(await clearStaleLock(profile, false, { host: THIS_HOST, alive })).toBe("none");
    expect(await readdir(profile)).toEqual(["Local State"]);
  });

  it('answers "none" for a profile that does not exist yet (first launch)', async () => {
    expect(await clearStaleLock(path.join(profile, "session", "session-town"), true, { host: THIS_HOST, alive })).toBe("none");
  });

  it.each<[string, string, boolean, LockVerdict]>([
    ["this machine, a process that is gone", `${THIS_HOST}-${DEAD_PID}`, false, "cleared"],
    ["this machine, a process that is gone, other hosts gone too", `${THIS_HOST}-${DEAD_PID}`, true, "cleared"],
    ["this machine, a live process", `${THIS_HOST}-${LIVE_PID}`, false, "live"],
    ["this machine, a live process, even when other hosts are gone", `${THIS_HOST}-${LIVE_PID}`, true, "live"],
    ["another machine, which may still be running", `old-container-1-${DEAD_PID}`, false, "live"],
    ["another machine, gone (we hold the lease)", `old-container-1-${DEAD_PID}`, true, "cleared"],
    ["another machine whose pid happens to be live here", `old-container-1-${LIVE_PID}`, true, "cleared"],
  ])("a lock naming %s", async (_name, owner, otherHostsAreGone, verdict) => {
    await lockedBy(owner);
    expect(await clearStaleLock(profile, otherHostsAreGone, { host: THIS_HOST, alive })).toBe(verdict);
    if (verdict === "cleared") {
      expect(await lockFilesLeft()).toEqual([]);
    } else {
      expect(await lockFilesLeft()).toEqual(LOCK_FILES);
      expect(await readlink(path.join(profile, "SingletonLock"))).toBe(owner);
    }
    expect(await readdir(profile)).toContain("Local State");
  });

  it("asks about the pid the lock names, on a host name that itself contains dashes", async () => {
    const asked: number[] = [];
    await lockedBy(`${THIS_HOST}-${DEAD_PID}`);
    await clearStaleLock(profile, false, { host: THIS_HOST, alive: (pid) => (asked.push(pid), false) });
    expect(asked).toEqual([DEAD_PID]);
  });

  it("clears a lock that is a regular file (a copied profile): it names no owner", async () => {
    await writeFile(path.join(profile, "SingletonLock"), `${THIS_HOST}-${LIVE_PID}`);
    await writeFile(path.join(profile, "SingletonCookie"), "1234567890");
    expect(await clearStaleLock(profile, false, { host: THIS_HOST, alive })).toBe("cleared");
    expect(await lockFilesLeft()).toEqual([]);
  });

  it("clears a lock whose target does not look like host-pid", async () => {
    await symlink("garbage", path.join(profile, "SingletonLock"));
    expect(await clearStaleLock(profile, false, { host: THIS_HOST, alive })).toBe("cleared");
    expect(await lockFilesLeft()).toEqual([]);
  });

  it("without injected deps: a lock naming this machine and a running Chromium is live", async () => {
    const browser = spawn("sleep", ["30"], { argv0: "/usr/lib/chromium/chromium" });
    try {
      await lockedBy(`${hostname()}-${browser.pid}`);
      expect(await clearStaleLock(profile, true)).toBe("live");
      expect(await lockFilesLeft()).toEqual(LOCK_FILES);
    } finally {
      browser.kill();
    }
  });

  it("without injected deps: a lock whose pid now belongs to another program (a restarted container) is cleared", async () => {
    await lockedBy(`${hostname()}-${process.pid}`);
    expect(await clearStaleLock(profile, false)).toBe("cleared");
    expect(await lockFilesLeft()).toEqual([]);
  });

  it("without injected deps: a lock naming this machine and a process that has exited is cleared", async () => {
    const exited = spawnSync(process.execPath, ["-e", ""]).pid;
    await lockedBy(`${hostname()}-${exited}`);
    expect(await clearStaleLock(profile, false)).toBe("cleared");
    expect(await lockFilesLeft()).toEqual([]);
  });
});
