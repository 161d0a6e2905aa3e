import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ChannelSender, OutboundRequest, SendResult } from "../channels/sender.js";
import type { Route } from "../channels/routes.js";
import type { ChannelKind } from "../conversation/types.js";
import type { Db, Tx } from "../db/createDb.js";
import { loggableError } from "../lib/logger.js";
import { maskPhone } from "../lib/maskPhone.js";
import { DEFAULT_DELIVERY_DEADLINE_MS, hasReplyWindow, OUTBOX_FAILURES, queueTemplateOnce, whatsappWindowOpen, type OutboxContext } from "../services/outbox.js";

export interface DrainOutboxDeps {
  db: Db;
  /**
   * The configured routes' senders. A row goes out through its own route's sender; rows of a route
   * that is not configured wait (and fail at their deadline, with the reason shown to staff). Read
   * anew for every row: a session route's sender (SESSION_ROUTES) is added and removed while the
   * process runs, as this instance gains and loses the session.
   */
  senders: Partial<Record<Route, ChannelSender>>;
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
  /** How long one row may wait for its route's pace before the run moves on (default 2 s). */
  paceWaitMs?: number;
  /** Wait after the n-th failed send (default `backoffMs`). */
  retryDelayMs?: (attempts: number) => number;
  /** Deadline given to rows that have none (rows queued before deadlines existed). */
  deadlineMs?: number;
  /**
   * Aborted when the process shuts down: the run claims no more rows, and gives back a row it
   * claimed but has not started sending; sends already at the provider finish and are recorded.
   */
  signal?: AbortSignal;
}

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 3600_000;

/** Exponential backoff: 30 s, 1 min, 2 min, … up to an hour. */
export const backoffMs = (attempts: number) => Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);

type Row = Awaited<ReturnType<Tx["outbox"]["findMany"]>>[number];
/** A row this worker holds, and the token every change it makes must still match. */
type Claimed = Row & { claimId: string };

/**
 * What became of a row: "settled" — sent, failed, cancelled or held, so the resident's next row may
 * go; "waiting" — still to be sent (a retry later, or an unclear answer to check first), so the
 * resident's later rows wait; "skipped" — not this worker's (another took it, an earlier row of the
 * same resident is not through yet, or an error), so they wait too.
 */
type Outcome = "settled" | "waiting" | "skipped";

interface Run {
  deps: DrainOutboxDeps;
  now: () => Date;
  leaseMs: number;
  retryDelay: (attempts: number) => number;
  /** Routes whose pace ran out this run: their remaining rows wait for a later run without waiting here. */
  paced: Set<string>;
}

const requestOf = (row: Row): OutboundRequest => ({
  outboxId: row.id,
  channel: row.channel === "whatsapp" ? "whatsapp" : "sms",
  to: row.toAddress,
  body: row.body,
  contentSid: row.contentSid ?? undefined,
  contentVariables: row.contentVariables ?? undefined,
  // Which try: set when the first attempt after queueing (or after "try again") starts.
  attempt: row.attemptStartedAt?.getTime(),
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
    paced: new Set(),
  };
  let handled = 0;
  try {
    handled += await reconcileAbandoned(run);
  } catch (error) {
    // Rows that can be sent are sent all the same.
    deps.logger.error({ error: loggableError(error) }, "could not reconcile unconfirmed sends this run");
  }
  const due = await dueRows(run);
  // One resident's rows in order: the lane stops at the first row that is not through.
  const outcomes = await inParallel(run, due, deps.concurrency ?? 4, (row) => deliver(run, row), { inOrder: true });
  handled += outcomes.filter((o) => o !== "skipped").length;
  return handled;
}

/** The routes this instance can send through right now (`senders` changes at run time: SESSION_ROUTES). */
const routesOf = (deps: DrainOutboxDeps) => Object.keys(deps.senders);

/**
 * Routes whose sender only the instance holding a session has, and may gain or lose at any moment:
 * WhatsApp Web (one linked phone, driven by one instance at a time). An instance without the
 * sender cannot tell "not configured" from "held by another instance", so it leaves their rows to
 * the holder until their deadline, and then fails them for the deadline, not for a missing route.
 */
const SESSION_ROUTES: readonly Route[] = ["whatsapp-web"];
const isSessionRoute = (route: string) => (SESSION_ROUTES as readonly string[]).includes(route);
/** How long past its deadline an unconfirmed send on a session route waits for the session's holder to check it. */
const SESSION_RECONCILE_GRACE_MS = 30 * 60_000;

/**
 * The rows to deliver this run, oldest first: up to `batchSize` per configured route (a backlog on a
 * slow route — an Android phone's 25 SMS a minute — never keeps another route's rows out of the
 * batch), and rows past their deadline whatever their route, to be failed (a route no longer
 * configured included; so are its rows that never had a deadline, except a session route's, which
 * another instance may hold).
 */
async function dueRows(run: Run): Promise<Row[]> {
  const { deps } = run;
  const at = run.now();
  const take = deps.batchSize ?? 20;
  const routes = routesOf(deps);
  const batches = await Promise.all([
    ...routes.map((route) => deps.db.outbox.findMany({ where: { status: "pending", route, nextAttemptAt: { lte: at } }, orderBy: { id: "asc" }, take })),
    deps.db.outbox.findMany({
      where: { status: "pending", OR: [{ deadlineAt: { lte: at } }, { deadlineAt: null, route: { notIn: [...routes, ...SESSION_ROUTES] } }] },
      orderBy: { id: "asc" },
      take,
    }),
  ]);
  const byId = new Map(batches.flat().map((row) => [row.id, row]));
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** How long one row may wait for its route's pace before the run moves on (it is tried in a later run). */
const PACE_WAIT_MS = 2_000;

/** The sender of a row's route (a row is only taken when its route has one, or to fail it). */
function senderOf(deps: DrainOutboxDeps, row: Row): ChannelSender {
  const sender = deps.senders[row.route as Route];
  if (!sender) throw new Error(`no sender is configured for route "${row.route}"`);
  return sender;
}

/**
 * Runs `work` over rows, `limit` at a time per route and channel, one address's rows one after the other
 * (a resident reads replies in the order staff wrote them). `inOrder`: an address's remaining rows
 * wait for a later run as soon as one of its rows is not settled. One row's error is logged and
 * stops only its own address's lane.
 */
async function inParallel(run: Run, rows: Row[], limit: number, work: (row: Row) => Promise<Outcome>, options: { inOrder: boolean }): Promise<Outcome[]> {
  const lanes = new Map<string, Map<string, Row[]>>();
  for (const row of rows) {
    const lane = `${row.route}:${row.channel}`;
    const channel = lanes.get(lane) ?? new Map<string, Row[]>();
    lanes.set(lane, channel);
    channel.set(row.toAddress, [...(channel.get(row.toAddress) ?? []), row]);
  }
  const results: Outcome[] = [];
  const attempt = async (row: Row): Promise<Outcome> => {
    try {
      return await work(row);
    } catch (error) {
      // Left as it is: "sending" rows are reconciled after their lease, "pending" ones tried again.
      run.deps.logger.error({ outboxId: row.id, to: maskPhone(row.toAddress), error: loggableError(error) }, "outbox row failed with an error; the others go on");
      return "skipped";
    }
  };
  await Promise.allSettled(
    [...lanes.values()].map(async (byAddress) => {
      const queues = [...byAddress.values()];
      const worker = async () => {
        for (let queue = queues.shift(); queue; queue = queues.shift()) {
          for (const row of queue) {
            const outcome = await attempt(row);
            results.push(outcome);
            if (options.inOrder && outcome !== "settled") break;
          }
        }
      };
      await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, queues.length)) }, worker));
    }),
  );
  return results;
}

/**
 * Takes a row as this worker read it ("pending", or "sending" with its lease run out) and makes it
 * this worker's with a fresh claim token; null if anyone changed the row since it was read, or if
 * the worker is shutting down.
 */
async function claim(run: Run, row: Row, data: { attempts?: { increment: number }; attemptStartedAt?: Date; deadlineAt?: Date } = {}): Promise<Claimed | null> {
  if (run.deps.signal?.aborted) return null;
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
  const at = run.now();
  const abandoned = await deps.db.outbox.findMany({
    // A route no longer configured cannot be asked: its rows are failed at their deadline.
    where: { status: "sending", leaseUntil: { lt: at }, OR: [{ route: { in: routesOf(deps) } }, { deadlineAt: { lte: at } }] },
    orderBy: { id: "asc" },
    take: 20,
  });
  const outcomes = await inParallel(run, abandoned, deps.concurrency ?? 4, (found) => reconcile(run, found), { inOrder: false });
  return outcomes.filter((o) => o !== "skipped").length;
}

async function reconcile(run: Run, found: Row): Promise<Outcome> {
  const { deps } = run;
  // The session moved to another instance since the rows were read: the holder asks, not us — also
  // just past the deadline, when only it can read the chat (failing it unasked would say "may have
  // gone out", and staff trying again could send it twice). Only a session nobody holds for long is failed unasked.
  if (!deps.senders[found.route as Route]) {
    const graceMs = isSessionRoute(found.route) ? SESSION_RECONCILE_GRACE_MS : 0;
    if (found.deadlineAt === null || found.deadlineAt.getTime() + graceMs > run.now().getTime()) return "skipped";
  }
  // Rows claimed before deadlines existed get one now.
  const row = await claim(run, found, found.deadlineAt ? {} : { deadlineAt: new Date(run.now().getTime() + (deps.deadlineMs ?? DEFAULT_DELIVERY_DEADLINE_MS)) });
  if (!row) return "skipped";
  // From the start of this try (the first attempt after queueing or "try again"): what Twilio
  // accepted before belongs to an earlier try.
  const since = row.attemptStartedAt ?? row.createdAt;
  let sid: string | null;
  try {
    const sender = senderOf(deps, row);
    sid = await sender.findAccepted(requestOf(row), since, await recordedElsewhere(deps.db, row, since));
  } catch (error) {
    return cannotReconcile(run, row, error);
  }
  if (sid) {
    if (!(await deps.db.$transaction((tx) => recordSent(tx, row, sid)))) return "skipped";
    deps.logger.info({ outboxId: row.id }, "the provider had accepted an unconfirmed send: recorded it");
    return "settled";
  }
  const at = run.now();
  if (pastDeadline(row, at) || row.attempts >= (deps.maxAttempts ?? 50)) {
    await fail(run, row, { errorCode: OUTBOX_FAILURES.deadline, errorMessage: row.lastError ?? undefined });
    return "settled";
  }
  // Not at the provider: the ambiguous wait already was the backoff, so it goes again now.
  await deps.db.outbox.updateMany({ where: mine(row), data: { status: "pending", nextAttemptAt: at, leaseUntil: null } });
  return "waiting";
}

/**
 * Provider ids that cannot be this try's message: other rows' sends to the same address, and this
 * message's earlier tries (recorded when staff pressed "try again").
 */
async function recordedElsewhere(db: Db, row: Claimed, since: Date): Promise<Set<string>> {
  const others = await db.outbox.findMany({
    where: { toAddress: row.toAddress, id: { not: row.id }, providerMessageId: { not: null }, updatedAt: { gte: new Date(since.getTime() - 3600_000) } },
    select: { providerMessageId: true },
  });
  const ids = new Set(others.flatMap((r) => (r.providerMessageId ? [r.providerMessageId] : [])));
  const message = await db.message.findUnique({ where: { id: row.messageId }, select: { ticketId: true } });
  if (message?.ticketId) {
    const retries = await db.ticketEvent.findMany({ where: { ticketId: message.ticketId, kind: "delivery_retried" }, select: { data: true } });
    for (const event of retries) {
      const earlier = previousTryOf(event.data, row.messageId);
      if (earlier) ids.add(earlier);
    }
  }
  return ids;
}

/** The provider id of the try that a "delivery_retried" event about `messageId` replaced, if it had one. */
function previousTryOf(json: string, messageId: number): string | null {
  try {
    const data: unknown = JSON.parse(json);
    if (typeof data !== "object" || data === null || !("messageId" in data) || data.messageId !== messageId) return null;
    return "previousProviderMessageId" in data && typeof data.previousProviderMessageId === "string" ? data.previousProviderMessageId : null;
  } catch {
    return null;
  }
}

/** The provider could not be asked: try again later (the longer it has been, the longer the wait), or give up at the deadline. */
async function cannotReconcile(run: Run, row: Claimed, error: unknown): Promise<Outcome> {
  const at = run.now();
  // Only a code and a message: a raw HTTP client error carries the auth header and the resident's number.
  const reason = loggableError(error);
  if (pastDeadline(row, at)) {
    await fail(run, row, { errorCode: OUTBOX_FAILURES.unconfirmed, errorMessage: row.lastError ?? `${reason.code}: ${reason.message}` });
    run.deps.logger.warn({ outboxId: row.id, to: maskPhone(row.toAddress) }, "could not confirm a send before its deadline: marked failed");
    return "settled";
  }
  // Waiting as long again as the attempt is old: a few checks a day for a long outage, not one every run.
  const age = at.getTime() - (row.attemptStartedAt ?? row.updatedAt).getTime();
  const wait = Math.min(Math.max(age, run.retryDelay(1)), BACKOFF_MAX_MS);
  const next = new Date(Math.min(at.getTime() + wait, row.deadlineAt?.getTime() ?? Infinity));
  await run.deps.db.outbox.updateMany({ where: mine(row), data: { leaseUntil: next } });
  run.deps.logger.warn({ outboxId: row.id, to: maskPhone(row.toAddress), error: reason, nextCheck: next.toISOString() }, "could not ask the provider about an unconfirmed send; will ask again later");
  return "skipped";
}

const pastDeadline = (row: Row, at: Date) => row.deadlineAt !== null && row.deadlineAt.getTime() <= at.getTime();

async function deliver(run: Run, found: Row): Promise<Outcome> {
  const { deps } = run;
  const startedAt = run.now();
  const sender = deps.senders[found.route as Route];
  const expired = pastDeadline(found, startedAt);
  // Without a sender here, a row before its deadline is failed only when it is a route no instance
  // has (a row from before deadlines on a route removed since); a session route's holder may be
  // another instance, or this one again in a moment (the session was lost since the rows were read).
  if (!sender && !expired && (found.deadlineAt !== null || isSessionRoute(found.route))) return "skipped";
  if (expired || !sender) {
    // A pending row has no send in flight: it was never accepted, so failing it is the truth.
    const row = await claim(run, found);
    if (!row) return "skipped";
    const errorCode = sender || isSessionRoute(row.route) ? OUTBOX_FAILURES.deadline : OUTBOX_FAILURES.noRoute;
    await fail(run, row, { errorCode, errorMessage: row.lastError ?? undefined });
    deps.logger.warn({ outboxId: row.id, to: maskPhone(row.toAddress), route: row.route }, errorCode === OUTBOX_FAILURES.deadline ? "delivery deadline passed: marked failed" : "no sender for the row's route: marked failed");
    return "settled";
  }
  // The resident reads messages in the order staff wrote them: not before an earlier one to the
  // same address on the same route is through (sent, failed or held), whichever worker holds it.
  // One route is one conversation on the resident's phone (Twilio's number and the town's own
  // WhatsApp phone are two chats); and so every instance decides alike, whatever senders it has
  // (a row stuck on a route no longer configured holds only its own route's later rows).
  const earlier = await deps.db.outbox.findFirst({
    where: { status: { in: ["pending", "sending"] }, toAddress: found.toAddress, id: { lt: found.id }, route: found.route },
    select: { id: true },
  });
  if (earlier) return "skipped";
  // The provider's own pace (an Android phone sends ~25 SMS parts a minute): wait before claiming,
  // so the row is never held while waiting, and not for long — the run has other routes to serve.
  if (sender.pace) {
    if (run.paced.has(found.route)) return "skipped";
    if (!(await paced(sender.pace.bind(sender), requestOf(found), deps.paceWaitMs ?? PACE_WAIT_MS, deps.signal))) {
      run.paced.add(found.route);
      return "skipped";
    }
  }
  const row = await claim(run, found, {
    attempts: { increment: 1 },
    // The first attempt of a try names it (status callbacks, reconciliation); later attempts keep it.
    ...(found.attemptStartedAt ? {} : { attemptStartedAt: startedAt }),
    // Rows queued before deadlines existed get one now.
    ...(found.deadlineAt ? {} : { deadlineAt: new Date(startedAt.getTime() + (deps.deadlineMs ?? DEFAULT_DELIVERY_DEADLINE_MS)) }),
  });
  if (!row) return "skipped";

  const resident = await deps.db.resident.findUniqueOrThrow({ where: { id: row.residentId } });
  // The bot's answer to the resident's own message goes, as it would in a webhook's response: the
  // confirmation of STOP, or how to START again.
  if (resident.optedOut && !(await answersResident(deps.db, row.messageId, resident.optedOutAt))) {
    await settle(deps.db, row, { outbox: "cancelled", message: "not_sent", errorCode: "opted_out" }, startedAt);
    return "settled";
  }
  const channel: ChannelKind = row.channel === "whatsapp" ? "whatsapp" : "sms";
  const lastInboundAt = async () =>
    (
      await deps.db.channelIdentity.findUnique({
        where: { municipalityId_channel_address: { municipalityId: row.municipalityId, channel: "whatsapp", address: resident.phone } },
      })
    )?.lastInboundAt ?? null;
  // The 24-hour rule is Twilio's: the town's own phone (whatsapp-web) writes whenever it likes.
  if (channel === "whatsapp" && !row.contentSid && hasReplyWindow(row.route)) {
    const last = await lastInboundAt();
    if (!whatsappWindowOpen(last, startedAt)) {
      await hold(run, row, last);
      return "settled";
    }
  }

  if (deps.signal?.aborted) {
    // Shutting down before the send started: give the row back as it was, for the next run of any instance.
    await deps.db.outbox.updateMany({ where: mine(row), data: { status: "pending", leaseUntil: null, attempts: found.attempts, attemptStartedAt: found.attemptStartedAt } });
    return "skipped";
  }
  // No transaction is open while the provider answers.
  const result = await sender.send(requestOf(row));
  if (result.status === "sent") {
    if (await deps.db.$transaction((tx) => recordSent(tx, row, result.providerMessageId))) return "settled";
    lostClaim(deps, row);
    return "skipped";
  }
  if (result.windowClosed && !row.contentSid && hasReplyWindow(row.route)) {
    await hold(run, row, await lastInboundAt());
    return "settled";
  }
  return recordFailure(run, row, result);
}

async function recordFailure(run: Run, row: Claimed, result: Extract<SendResult, { status: "failed" }>): Promise<Outcome> {
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
    return "waiting";
  }
  if (result.retryable && row.attempts < (deps.maxAttempts ?? 50)) {
    const next = new Date(at.getTime() + run.retryDelay(row.attempts));
    if (row.deadlineAt && next.getTime() >= row.deadlineAt.getTime()) {
      await fail(run, { ...row, lastError }, { errorCode: OUTBOX_FAILURES.deadline, errorMessage: lastError });
      deps.logger.warn(log, "send failed and the next try would be after the deadline: marked failed");
      return "settled";
    }
    const won = await deps.db.outbox.updateMany({ where: mine(row), data: { status: "pending", nextAttemptAt: next, leaseUntil: null, lastError } });
    if (won.count === 0) lostClaim(deps, row);
    deps.logger.warn(log, "send failed; will retry");
    return "waiting";
  }
  await deps.db.$transaction(async (tx) => {
    if (!(await settle(tx, row, { outbox: "failed", message: "failed", errorCode: result.code, errorMessage: result.message }, at))) return;
    // The resident unsubscribed with the provider (replied STOP to Twilio): nothing will get through.
    if (result.unsubscribed) await tx.resident.update({ where: { id: row.residentId }, data: { optedOut: true, optedOutAt: at } });
  });
  deps.logger.warn(log, "send failed for good");
  return "settled";
}

/** Whether a message is the bot's answer to one the resident just sent (not staff's, not a notice). */
async function answersResident(db: Db, messageId: number, optedOutAt: Date | null): Promise<boolean> {
  const message = await db.message.findUnique({ where: { id: messageId }, select: { kind: true, inReplyTo: { select: { createdAt: true } } } });
  if (message?.kind !== "bot" || !message.inReplyTo) return false;
  // An answer to a message sent before STOP, still waiting for its turn, stays unsent: opted out is silence.
  return optedOutAt === null || message.inReplyTo.createdAt.getTime() >= optedOutAt.getTime();
}

/**
 * Waits for a route's pace at most `waitMs` (or until the process stops); false when it gave up.
 * One timer and one listener per wait, both gone afterwards (AbortSignal.any would leave an entry
 * on the process-long stop signal for every wait: nodejs/node#55351).
 */
async function paced(pace: NonNullable<ChannelSender["pace"]>, request: OutboundRequest, waitMs: number, stop: AbortSignal | undefined): Promise<boolean> {
  if (stop?.aborted) return false;
  const wait = new AbortController();
  const timer = setTimeout(() => wait.abort(new Error("the route's pace did not allow a send in time")), waitMs);
  timer.unref();
  const onStop = () => wait.abort(stop?.reason);
  stop?.addEventListener("abort", onStop, { once: true });
  try {
    await pace(request, wait.signal);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener("abort", onStop);
  }
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

/** Records the provider's id (row and message together) if this worker still holds the row; false when it no longer does. */
async function recordSent(db: Tx, row: Claimed, providerMessageId: string): Promise<boolean> {
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
