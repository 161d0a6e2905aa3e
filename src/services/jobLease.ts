import type { Db } from "../db/createDb.js";
import { isUniqueViolation } from "../db/errors.js";

export type LeaseResult<T> = { acquired: true; value: T } | { acquired: false };

/**
 * Runs `fn` only if this holder gets the named lease, so that a job runs once across several
 * instances sharing one database. The lease is taken with a conditional write that only one holder
 * can win: an insert (the name is the primary key), or, when a row exists, an update that only
 * matches if the lease has expired or is already ours. While `fn` runs the lease is extended every
 * third of `ttlMs`; it is released when `fn` ends, even by throwing. A holder that crashed
 * keeps it at most `ttlMs`. `now` is the caller's clock; renewals add the time elapsed since.
 */
export async function withLease<T>(db: Db, name: string, holder: string, ttlMs: number, now: Date, fn: () => Promise<T>): Promise<LeaseResult<T>> {
  if (!(await acquireLease(db, name, holder, ttlMs, now))) return { acquired: false };
  const started = performance.now();
  const expiry = () => new Date(now.getTime() + (performance.now() - started) + ttlMs);
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = db.jobLease.updateMany({ where: { name, holder }, data: { expiresAt: expiry() } }).catch(() => undefined);
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  try {
    return { acquired: true, value: await fn() };
  } finally {
    clearInterval(timer);
    await renewing;
    await db.jobLease.deleteMany({ where: { name, holder } });
  }
}

/** Takes the lease if nobody holds it (or their time is up); true when this holder has it now. */
export async function acquireLease(db: Db, name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
  const expiresAt = new Date(now.getTime() + ttlMs);
  try {
    await db.jobLease.create({ data: { name, holder, expiresAt } });
    return true;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  // The row exists: take it over only if it has expired (or is already ours). Both databases
  // evaluate the condition against the latest row, so of two callers only one matches.
  const { count } = await db.jobLease.updateMany({
    where: { name, OR: [{ expiresAt: { lte: now } }, { holder }] },
    data: { holder, expiresAt },
  });
  return count === 1;
}
