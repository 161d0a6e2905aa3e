import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ChannelSender, OutboundRequest, SendResult } from "../channels/sender.js";
import type { ChannelKind } from "../conversation/types.js";
import type { Db, Tx } from "../db/createDb.js";
import { maskPhone } from "../lib/maskPhone.js";
import { DEFAULT_DELIVERY_DEADLINE_MS, OUTBOX_FAILURES, queueTemplateOnce, whatsappWindowOpen, type OutboxContext } from "../services/outbox.js";

export interface DrainOutboxDeps {
  db: Db;
  sender: ChannelSender;
  logger: Logger;
  outbox: Omit<OutboxContext, "now">;
  /** The time, read whenever a decision needs it (a run may last longer than a lease). */
  clock?: () => Date;
  /** Rows taken per run. */
  batchSize?: number;
  /** Rows sent at once per channel (OUTBOX_CONCURRENCY); one resident's rows always go one at a time, in order. */
  concurrency?: number;
  /**
   * How long a worker owns a row it claimed; after that another may reconcile it. Must be longer
   * than the sender's timeout, or a send still in flight could be reconciled and sent again.
   */
  leaseMs?: number;
  /** A safety net behind the deadline: sends after which a row fails. */
  maxAttempts?: number;
  /** Wait after the n-th failed send (default `backoffMs`). */
  retryDelayMs?: (attempts: number) => number;
  /** Deadline given to rows that have none (rows queued before deadlines existed). */
  deadlineMs?: number;
}

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 3600_000;

/** Exponential backoff: 30 s, 1 min, 2 min, … up to an hour. */
export const backoffMs = (attempts: number) => Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);

type Row = Awaited<ReturnType<Tx["outbox"]["findMany"]>>[number];
/** A row this worker holds, and the token every change it makes must still match. */
type Claimed = Row & { claimId: string };

interface Run {
  deps: DrainOutboxDeps;
  now: () => Date;
  leaseMs: number;
  retryDelay: (attempts: number) => number;
}

const requestOf = (row: Row): OutboundRequest => ({
  outboxId: row.id,
  channel: row.channel === "whatsapp" ? "whatsapp" : "sms",
  to: row.toAddress,
  body: row.body,
  contentSid: row.contentSid ?? undefined,
  contentVariables: row.contentVariables ?? undefined,
});

/**
 * One run of the outbox worker (every few seconds): reconcile rows whose sender went quiet, then
 * claim due rows and deliver them, several at a time per channel and one resident's in order.
 *
 * Exactly once, across any number of instances on one database: every change to a row is a
 * compare-and-set on the random `claimId` written when it was claimed, so a worker whose lease ran
 * out can no longer touch the row. Leases are read from `deps.clock` at the moment of the claim.
 * A send that may have reached the provider (timeout, dropped connection, 5xx) is never repeated
 * before the provider's message list says it did not arrive. After its deadline a row is failed,
 * with a reason staff can read. The second argument (when the run was scheduled, as every job
 * gets) is not used for decisions: a run can outlast a lease, so every decision reads `deps.clock`.
 * Returns how many rows it delivered or settled.
 */
export async function drainOutbox(deps: DrainOutboxDeps, _scheduledAt?: Date): Promise<number> {
  const run: Run = {
    deps,
    now: deps.clock ?? (() => new Date()),
    leaseMs: deps.leaseMs ?? 120_000,
    retryDelay: deps.retryDelayMs ?? backoffMs,
  };
  let handled = await reconcileAbandoned(run);
  const at = run.now();
  const due = await deps.db.outbox.findMany({
    where: { status: "pending", OR: [{ nextAttemptAt: { lte: at } }, { deadlineAt: { lte: at } }] },
    orderBy: { id: "asc" },
    take: deps.batchSize ?? 20,
  });
  const outcomes = await inParallel(due, deps.concurrency ?? 4, (row) => deliver(run, row));
  handled += outcomes.filter(Boolean).length;
  return handled;
}

/**
 * Runs `work` over rows, `limit` at a time per channel, one address's rows one after the other
 * (a resident reads replies in the order staff wrote them).
 */
async function inParallel(rows: Row[], limit: number, work: (row: Row) => Promise<boolean>): Promise<boolean[]> {
  const lanes = new Map<string, Map<string, Row[]>>();
  for (const row of rows) {
    const channel = lanes.get(row.channel) ?? new Map<string, Row[]>();
    lanes.set(row.channel, channel);
    channel.set(row.toAddress, [...(channel.get(row.toAddress) ?? []), row]);
  }
  const results: boolean[] = [];
  await Promise.all(
    [...lanes.values()].map(async (byAddress) => {
      const queues = [...byAddress.values()];
      const worker = async () => {
        for (let queue = queues.shift(); queue; queue = queues.shift()) {
          for (const row of queue) results.push(await work(row));
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queues.length)) }, worker));
    }),
  );
  return results;
}

/**
 * Takes a row as this worker read it ("pending", or "sending" with its lease run out) and makes it
 * this worker's with a fresh claim token; null if anyone changed the row since it was read.
 */
async function claim(run: Run, row: Row, data: { attempts?: { increment: number }; attemptStartedAt?: Date; deadlineAt?: Date } = {}): Promise<Claimed | null> {
  const claimId = randomUUID();
  // The lease starts now, when the row is claimed: not when the run started.
  const at = run.now();
  const leaseUntil = new Date(at.getTime() + run.leaseMs);
  const won = await run.deps.db.outbox.updateMany({
    where: { id: row.id, status: row.status, claimId: row.claimId, attempts: row.attempts, ...(row.status === "sending" ? { leaseUntil: { lt: at } } : {}) },
    data: { status: "sending", claimId, leaseUntil, ...data },
  });
  if (won.count === 0) return null;
  return {
    ...row,
    status: "sending",
    claimId,
    leaseUntil,
    attempts: row.attempts + (data.attempts?.increment ?? 0),
    attemptStartedAt: data.attemptStartedAt ?? row.attemptStartedAt,
    deadlineAt: data.deadlineAt ?? row.deadlineAt,
  };
}

/** Only while this worker's claim is the current one. */
const mine = (row: Claimed) => ({ id: row.id, claimId: row.claimId, status: "sending" });

/**
 * Rows still "sending" after their lease: the worker died between asking the provider and
 * recording the answer, or the answer was ambiguous. Ask the provider whether it accepted the
 * message; record it if so, otherwise queue it again. When the provider cannot be asked, ask again
 * later, waiting longer each time, until the deadline.
 */
async function reconcileAbandoned(run: Run): Promise<number> {
  const { deps } = run;
  const abandoned = await deps.db.outbox.findMany({ where: { status: "sending", leaseUntil: { lt: run.now() } }, orderBy: { id: "asc" }, take: 20 });
  const outcomes = await inParallel(abandoned, deps.concurrency ?? 4, async (found) => {
    const row = await claim(run, found);
    if (!row) return false;
    // From the earliest moment this row could have been sent.
    const since = row.attemptStartedAt && row.attemptStartedAt < row.createdAt ? row.attemptStartedAt : row.createdAt;
    let sid: string | null;
    try {
      // Twilio ids other rows already recorded for this address cannot be this row's message.
      const recorded = await deps.db.outbox.findMany({
        where: { toAddress: row.toAddress, id: { not: row.id }, providerMessageId: { not: null }, updatedAt: { gte: new Date(since.getTime() - 3600_000) } },
        select: { providerMessageId: true },
      });
      sid = await deps.sender.findAccepted(requestOf(row), since, new Set(recorded.flatMap((r) => (r.providerMessageId ? [r.providerMessageId] : []))));
    } catch (error) {
      return cannotReconcile(run, row, error);
    }
    if (sid) {
      if (await recordSent(deps.db, row, sid)) deps.logger.info({ outboxId: row.id }, "the provider had accepted an unconfirmed send: recorded it");
      return true;
    }
    const at = run.now();
    if (pastDeadline(row, at) || row.attempts >= (deps.maxAttempts ?? 50)) {
      await fail(run, row, { errorCode: OUTBOX_FAILURES.deadline, errorMessage: row.lastError ?? undefined });
      return true;
    }
    // Not at the provider: the ambiguous wait already was the backoff, so it goes again now.
    await deps.db.outbox.updateMany({ where: mine(row), data: { status: "pending", nextAttemptAt: at, leaseUntil: null } });
    return true;
  });
  return outcomes.filter(Boolean).length;
}

/** The provider could not be asked: try again later (the longer it has been, the longer the wait), or give up at the deadline. */
async function cannotReconcile(run: Run, row: Claimed, error: unknown): Promise<boolean> {
  const at = run.now();
  const reason = error instanceof Error ? error.message : String(error);
  if (pastDeadline(row, at)) {
    await fail(run, row, { errorCode: OUTBOX_FAILURES.unconfirmed, errorMessage: row.lastError ?? reason });
    run.deps.logger.warn({ outboxId: row.id, to: maskPhone(row.toAddress) }, "could not confirm a send before its deadline: marked failed");
    return true;
  }
  // Waiting as long again as the attempt is old: a few checks a day for a long outage, not one every run.
  const age = at.getTime() - (row.attemptStartedAt ?? row.updatedAt).getTime();
  const wait = Math.min(Math.max(age, run.retryDelay(1)), BACKOFF_MAX_MS);
  const next = new Date(Math.min(at.getTime() + wait, row.deadlineAt?.getTime() ?? Infinity));
  await run.deps.db.outbox.updateMany({ where: mine(row), data: { leaseUntil: next } });
  run.deps.logger.warn({ outboxId: row.id, err: error, nextCheck: next.toISOString() }, "could not ask the provider about an unconfirmed send; will ask again later");
  return false;
}

const pastDeadline = (row: Row, at: Date) => row.deadlineAt !== null && row.deadlineAt.getTime() <= at.getTime();

async function deliver(run: Run, found: Row): Promise<boolean> {
  const { deps } = run;
  const startedAt = run.now();
  if (pastDeadline(found, startedAt)) {
    // A pending row has no send in flight: it was never accepted, so failing it is the truth.
    const row = await claim(run, found);
    if (!row) return false;
    await fail(run, row, { errorCode: OUTBOX_FAILURES.deadline, errorMessage: row.lastError ?? undefined });
    deps.logger.warn({ outboxId: row.id, to: maskPhone(row.toAddress) }, "delivery deadline passed: marked failed");
    return true;
  }
  const row = await claim(run, found, {
    attempts: { increment: 1 },
    attemptStartedAt: startedAt,
    // Rows queued before deadlines existed get one now.
    ...(found.deadlineAt ? {} : { deadlineAt: new Date(startedAt.getTime() + (deps.deadlineMs ?? DEFAULT_DELIVERY_DEADLINE_MS)) }),
  });
  if (!row) return false;

  const resident = await deps.db.resident.findUniqueOrThrow({ where: { id: row.residentId } });
  if (resident.optedOut) {
    await settle(deps.db, row, { outbox: "cancelled", message: "not_sent", errorCode: "opted_out" }, startedAt);
    return true;
  }
  const channel: ChannelKind = row.channel === "whatsapp" ? "whatsapp" : "sms";
  const lastInboundAt = async () =>
    (
      await deps.db.channelIdentity.findUnique({
        where: { municipalityId_channel_address: { municipalityId: row.municipalityId, channel: "whatsapp", address: resident.phone } },
      })
    )?.lastInboundAt ?? null;
  if (channel === "whatsapp" && !row.contentSid) {
    const last = await lastInboundAt();
    if (!whatsappWindowOpen(last, startedAt)) {
      await hold(run, row, last);
      return true;
    }
  }

  // No transaction is open while the provider answers.
  const result = await deps.sender.send(requestOf(row));
  if (result.status === "sent") {
    if (!(await recordSent(deps.db, row, result.providerMessageId))) lostClaim(deps, row);
    return true;
  }
  if (result.windowClosed && !row.contentSid) {
    await hold(run, row, await lastInboundAt());
    return true;
  }
  return recordFailure(run, row, result);
}

async function recordFailure(run: Run, row: Claimed, result: Extract<SendResult, { status: "failed" }>): Promise<boolean> {
  const { deps } = run;
  const at = run.now();
  const log = { outboxId: row.id, to: maskPhone(row.toAddress), code: result.code, attempts: row.attempts };
  const lastError = `${result.code}: ${result.message}`;
  if (result.ambiguous) {
    // The provider may have the message (no answer, or a 5xx on the way back). Whatever the
    // attempt count or deadline, it stays "sending" until the backoff has passed; then it is
    // reconciled like a crashed send: recorded if the provider has it, sent again (or failed) if not.
    const won = await deps.db.outbox.updateMany({ where: mine(row), data: { leaseUntil: new Date(at.getTime() + run.retryDelay(row.attempts)), lastError } });
    if (won.count === 0) lostClaim(deps, row);
    deps.logger.warn(log, "no clear answer from the provider; will check before retrying");
    return true;
  }
  if (result.retryable && row.attempts < (deps.maxAttempts ?? 50)) {
    const next = new Date(at.getTime() + run.retryDelay(row.attempts));
    if (row.deadlineAt && next.getTime() >= row.deadlineAt.getTime()) {
      await fail(run, { ...row, lastError }, { errorCode: OUTBOX_FAILURES.deadline, errorMessage: lastError });
      deps.logger.warn(log, "send failed and the next try would be after the deadline: marked failed");
      return true;
    }
    const won = await deps.db.outbox.updateMany({ where: mine(row), data: { status: "pending", nextAttemptAt: next, leaseUntil: null, lastError } });
    if (won.count === 0) lostClaim(deps, row);
    deps.logger.warn(log, "send failed; will retry");
    return true;
  }
  await deps.db.$transaction(async (tx) => {
    if (!(await settle(tx, row, { outbox: "failed", message: "failed", errorCode: result.code, errorMessage: result.message }, at))) return;
    // The resident unsubscribed with the provider (replied STOP to Twilio): nothing will get through.
    if (result.unsubscribed) await tx.resident.update({ where: { id: row.residentId }, data: { optedOut: true, optedOutAt: at } });
  });
  deps.logger.warn(log, "send failed for good");
  return true;
}

/** The row was taken over while this worker held it (its lease ran out): the newer claim decides. */
function lostClaim(deps: DrainOutboxDeps, row: Claimed) {
  deps.logger.warn({ outboxId: row.id }, "lost the claim on an outbox row before recording; left to its new owner");
}

/** Gives up on a row, visibly: the message shows why in the staff member's language. */
async function fail(run: Run, row: Claimed, reason: { errorCode: string; errorMessage?: string | undefined }) {
  await run.deps.db.$transaction(async (tx) => {
    await settle(tx, row, { outbox: "failed", message: "failed", ...reason }, run.now());
  });
}

/** Outside WhatsApp's window: hold the message until the resident writes, and nudge them with the template once. */
async function hold(run: Run, row: Claimed, since: Date | null) {
  const now = run.now();
  await run.deps.db.$transaction(async (tx) => {
    if (!(await settle(tx, row, { outbox: "held", message: "held", errorCode: "window_closed" }, now))) return;
    const message = await tx.message.findUniqueOrThrow({ where: { id: row.messageId }, include: { ticket: true, resident: true } });
    await queueTemplateOnce(tx, { ...run.deps.outbox, now }, {
      residentId: row.residentId,
      ticketId: message.ticketId,
      reference: message.ticket?.reference ?? null,
      locale: message.resident.locale ?? message.ticket?.locale ?? null,
      to: row.toAddress,
      since,
    });
  });
}

/** Records the provider's id if this worker still holds the row; false when it no longer does. */
async function recordSent(db: Db | Tx, row: Claimed, providerMessageId: string): Promise<boolean> {
  const won = await db.outbox.updateMany({ where: mine(row), data: { status: "sent", providerMessageId, leaseUntil: null, lastError: null } });
  if (won.count === 0) return false;
  // A delivery callback may already have moved the message further ("delivered"): never back.
  await db.message.updateMany({ where: { id: row.messageId, status: { in: ["queued", "held"] } }, data: { status: "sent" } });
  await db.message.updateMany({ where: { id: row.messageId, providerMessageId: null }, data: { providerMessageId } });
  return true;
}

/** Moves a claimed row to its final (or held) state with the message; false when the claim was lost. */
async function settle(
  db: Db | Tx,
  row: Claimed,
  outcome: { outbox: string; message: string; errorCode: string; errorMessage?: string | undefined },
  now: Date,
): Promise<boolean> {
  const won = await db.outbox.updateMany({
    where: mine(row),
    data: { status: outcome.outbox, leaseUntil: null, nextAttemptAt: now, lastError: outcome.errorMessage ? `${outcome.errorCode}: ${outcome.errorMessage}` : outcome.errorCode },
  });
  if (won.count === 0) return false;
  await db.message.update({
    where: { id: row.messageId },
    data: { status: outcome.message, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage ?? null },
  });
  return true;
}
