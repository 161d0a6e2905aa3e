import { readFileSync } from "node:fs";
import { lstat, readlink, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";

/** What Chromium leaves in a profile while it runs: SingletonLock → "<host>-<pid>", and two companions. */
const LOCK_FILES = ["SingletonLock", "SingletonSocket", "SingletonCookie"];

export type LockVerdict = "none" | "cleared" | "live";

export interface LockDeps {
  /** Whether a process with this pid is alive on this machine. */
  alive?: (pid: number) => boolean;
  host?: string;
}

/**
 * Whether `pid` is a live Chromium: a process that exists and, where /proc tells, runs Chromium
 * (after a container restart the old browser's pid may belong to something else).
 */
const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return /chrom/i.test(readFileSync(`/proc/${pid}/cmdline`, "latin1"));
  } catch {
    return true;
  }
};

/**
 * A Chromium that crashed (or a container killed with it) leaves its profile locked, and the next
 * launch then refuses the profile: the linked session would look lost. The lock is cleared only
 * when no live browser owns it: it names this machine and a process that is gone. A lock naming
 * another machine is cleared only when `otherHostsAreGone` (this instance holds the session's lease,
 * so no other instance is driving this profile: a restarted container gets a new host name). A live
 * owner's lock is left alone ("live"): two browsers on one profile would corrupt it.
 */
export async function clearStaleLock(profile: string, otherHostsAreGone: boolean, deps: LockDeps = {}): Promise<LockVerdict> {
  const lock = path.join(profile, "SingletonLock");
  let target: string;
  try {
    await lstat(lock);
  } catch {
    return "none";
  }
  try {
    target = await readlink(lock);
  } catch {
    // Not a symlink (a copied profile): nothing names an owner; treat as stale.
    target = "";
  }
  const match = /^(.*)-(\d+)$/.exec(target);
  const host = deps.host ?? hostname();
  const alive = deps.alive ?? processAlive;
  if (match) {
    const [, owner, pid] = match;
    const ours = owner === host;
    if (ours && alive(Number(pid))) return "live";
    if (!ours && !otherHostsAreGone) return "live";
  }
  for (const name of LOCK_FILES) await unlink(path.join(profile, name)).catch(() => undefined);
  return "cleared";
}
