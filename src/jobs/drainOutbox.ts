import type { Logger } from "pino";
import type { ChannelSender, OutboundRequest } from "../channels/sender.js";
import type { ChannelKind } from "../conversation/types.js";
import type { Db, Tx } from "../db/createDb.js";
import { maskPhone } from "../lib/maskPhone.js";
import { queueTemplateOnce, whatsappWindowOpen, type OutboxContext } from "../services/outbox.js";

export interface DrainOutboxDeps {
  db: Db;
  sender: ChannelSender;
  logger: Logger;
  outbox: Omit<OutboxContext, "now">;
  /** Rows sent per run. */
  batchSize?: number;
  /** How long one worker owns a row it is sending; after that another may reconcile it. */
  leaseMs?: number;
  maxAttempts?: number;
}

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_MAX_MS = 3600_000;

/** Exponential backoff: 30 s, 1 min, 2 min, … up to an hour. */
export const backoffMs = (attempts: number) => Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS);

type Row = Awaited<ReturnType<Tx["outbox"]["findMany"]>>[number];

const requestOf = (row: Row): OutboundRequest => ({
  outboxId: row.id,
  channel: row.channel === "whatsapp" ? "whatsapp" : "sms",
  to: row.toAddress,
  body: row.body,
  contentSid: row.contentSid ?? undefined,
  contentVariables: row.contentVariables ?? undefined,
});

/**
 * One run of the outbox worker (every few seconds): first reconcile rows a crashed worker left
 * "sending", then claim due rows one by one and deliver them. Safe with several workers on one
 * database: a row is claimed by a conditional update, and only its claimer sends it.
 * Returns how many rows it delivered or settled.
 */
export async function drainOutbox(deps: DrainOutboxDeps, now: Date): Promise<number> {
  const batchSize = deps.batchSize ?? 20;
  await reconcileAbandoned(deps, now);
  const due = await deps.db.outbox.findMany({
    where: { status: "pending", nextAttemptAt: { lte: now } },
    orderBy: { id: "asc" },
    take: batchSize,
  });
  let handled = 0;
  for (const row of due) {
    if (await deliver(deps, row, now)) handled++;
  }
  return handled;
}

/**
 * A row still "sending" after its lease: its worker died between asking Twilio and recording the
 * answer. Ask Twilio whether it accepted the message; record it if so, otherwise send again.
 */
async function reconcileAbandoned(deps: DrainOutboxDeps, now: Date) {
  const abandoned = await deps.db.outbox.findMany({ where: { status: "sending", leaseUntil: { lt: now } }, take: 20 });
  for (const row of abandoned) {
    let sid: string | null;
    const since = row.attemptStartedAt ?? row.updatedAt;
    try {
      // Twilio ids other rows already recorded for this address cannot be this row's message.
      const recorded = await deps.db.outbox.findMany({
        where: { toAddress: row.toAddress, id: { not: row.id }, providerMessageId: { not: null }, updatedAt: { gte: new Date(since.getTime() - 3600_000) } },
        select: { providerMessageId: true },
      });
      sid = await deps.sender.findAccepted(requestOf(row), since, new Set(recorded.flatMap((r) => (r.providerMessageId ? [r.providerMessageId] : []))));
    } catch (error) {
      deps.logger.warn({ outboxId: row.id, err: error }, "could not reconcile an abandoned send; will retry later");
      continue;
    }
    if (sid) {
      await recordSent(deps.db, row, sid, now);
      deps.logger.info({ outboxId: row.id }, "found an abandoned send already accepted by the provider");
    } else {
      await deps.db.outbox.updateMany({ where: { id: row.id, status: "sending" }, data: { status: "pending", nextAttemptAt: now, leaseUntil: null } });
    }
  }
}

async function deliver(deps: DrainOutboxDeps, row: Row, now: Date): Promise<boolean> {
  const leaseMs = deps.leaseMs ?? 120_000;
  // Claim: only one worker wins the row.
  const claimed = await deps.db.outbox.updateMany({
    where: { id: row.id, status: "pending" },
    data: { status: "sending", attempts: { increment: 1 }, leaseUntil: new Date(now.getTime() + leaseMs), attemptStartedAt: now },
  });
  if (claimed.count === 0) return false;
  const attempts = row.attempts + 1;

  const resident = await deps.db.resident.findUniqueOrThrow({ where: { id: row.residentId } });
  if (resident.optedOut) {
    await settle(deps.db, row, { outbox: "cancelled", message: "not_sent", errorCode: "opted_out" }, now);
    return true;
  }
  const channel: ChannelKind = row.channel === "whatsapp" ? "whatsapp" : "sms";
  if (channel === "whatsapp" && !row.contentSid) {
    const identity = await deps.db.channelIdentity.findUnique({
      where: { municipalityId_channel_address: { municipalityId: row.municipalityId, channel: "whatsapp", address: resident.phone } },
    });
    if (!whatsappWindowOpen(identity?.lastInboundAt, now)) {
      await hold(deps, row, identity?.lastInboundAt ?? null, now);
      return true;
    }
  }

  const result = await deps.sender.send(requestOf(row));
  if (result.status === "sent") {
    await recordSent(deps.db, row, result.providerMessageId, now);
    return true;
  }
  if (result.windowClosed && !row.contentSid) {
    const identity = await deps.db.channelIdentity.findUnique({
      where: { municipalityId_channel_address: { municipalityId: row.municipalityId, channel: "whatsapp", address: resident.phone } },
    });
    await hold(deps, row, identity?.lastInboundAt ?? null, now);
    return true;
  }
  const log = { outboxId: row.id, to: maskPhone(row.toAddress), code: result.code, attempts };
  if (result.ambiguous && attempts < (deps.maxAttempts ?? 8)) {
    // No answer: Twilio may have accepted it. Leave the row "sending" until the backoff has passed;
    // then it is reconciled like a crashed send — recorded if Twilio has it, sent again if not.
    await deps.db.outbox.update({
      where: { id: row.id },
      data: { leaseUntil: new Date(now.getTime() + backoffMs(attempts)), lastError: `${result.code}: ${result.message}` },
    });
    deps.logger.warn(log, "no answer from the provider; will check before retrying");
    return true;
  }
  if (result.retryable && attempts < (deps.maxAttempts ?? 8)) {
    await deps.db.outbox.update({
      where: { id: row.id },
      data: { status: "pending", nextAttemptAt: new Date(now.getTime() + backoffMs(attempts)), leaseUntil: null, lastError: `${result.code}: ${result.message}` },
    });
    deps.logger.warn(log, "send failed; will retry");
    return true;
  }
  await deps.db.$transaction(async (tx) => {
    await settle(tx, row, { outbox: "failed", message: "failed", errorCode: result.code, errorMessage: result.message }, now);
    // The resident unsubscribed with the provider (replied STOP to Twilio): nothing will get through.
    if (result.unsubscribed) await tx.resident.update({ where: { id: row.residentId }, data: { optedOut: true, optedOutAt: now } });
  });
  deps.logger.warn(log, "send failed for good");
  return true;
}

/** Outside WhatsApp's window: hold the message until the resident writes, and nudge them with the template once. */
async function hold(deps: DrainOutboxDeps, row: Row, since: Date | null, now: Date) {
  await deps.db.$transaction(async (tx) => {
    await settle(tx, row, { outbox: "held", message: "held", errorCode: "window_closed" }, now);
    const message = await tx.message.findUniqueOrThrow({ where: { id: row.messageId }, include: { ticket: true, resident: true } });
    await queueTemplateOnce(tx, { ...deps.outbox, now }, {
      residentId: row.residentId,
      ticketId: message.ticketId,
      reference: message.ticket?.reference ?? null,
      locale: message.resident.locale ?? message.ticket?.locale ?? null,
      to: row.toAddress,
      since,
    });
  });
}

async function recordSent(db: Db | Tx, row: Row, providerMessageId: string, now: Date) {
  await db.outbox.update({ where: { id: row.id }, data: { status: "sent", providerMessageId, leaseUntil: null, lastError: null, updatedAt: now } });
  // A delivery callback may already have moved the message further ("delivered"): never back.
  await db.message.updateMany({ where: { id: row.messageId, status: { in: ["queued", "held"] } }, data: { status: "sent" } });
  await db.message.updateMany({ where: { id: row.messageId, providerMessageId: null }, data: { providerMessageId } });
}

async function settle(
  db: Db | Tx,
  row: Row,
  outcome: { outbox: string; message: string; errorCode: string; errorMessage?: string },
  now: Date,
) {
  await db.outbox.update({
    where: { id: row.id },
    data: { status: outcome.outbox, leaseUntil: null, nextAttemptAt: now, lastError: outcome.errorMessage ? `${outcome.errorCode}: ${outcome.errorMessage}` : outcome.errorCode },
  });
  await db.message.update({
    where: { id: row.messageId },
    data: { status: outcome.message, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage ?? null },
  });
}
