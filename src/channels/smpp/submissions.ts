import type { DeliveryReport } from "../sender.js";

type Status = DeliveryReport["status"];

interface Message {
  id: string;
  parts: Array<Status | undefined>;
  until: number;
}

/**
 * What this process submitted, for two questions SMPP cannot answer afterwards:
 *
 * - Which message a delivery receipt is about. A long message is several submit_sm, each with its
 *   own SMSC id and its own receipt; the send reports the FIRST part's id as the message's
 *   providerMessageId, and every part's id maps to it here. A receipt changes the message's status
 *   as a whole: failed or undelivered as soon as one part is, delivered once every part is, sent
 *   otherwise. Some SMSCs give the id in hex in submit_sm_resp and in decimal in the receipt (or the
 *   other way round, or zero-padded): ids are matched as given first, then in the other base.
 *   A receipt for an id not found here (sent before a restart, or more than `ttlMs` ago) is passed
 *   on with its id as given.
 * - Whether the SMSC accepted an outbox row's try (`findAccepted`): recorded when the last part's
 *   submit_sm_resp arrives, even after the send was reported ambiguous (the answer came too late).
 *
 * Memory only, bounded by count and kept `ttlMs` (48 hours by default).
 */
export class Submissions {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #messages = new Map<string, Message>();
  // Normalised part id (and its other-base alias) → the message and the part's position.
  readonly #parts = new Map<string, { message: Message; index: number; exact: boolean }>();
  readonly #accepted = new Map<string, { id: string; until: number }>();

  constructor(options: { ttlMs?: number; max?: number; now: () => number }) {
    this.#ttlMs = options.ttlMs ?? 48 * 3600_000;
    this.#max = options.max ?? 50_000;
    this.#now = options.now;
  }

  /** A message the SMSC took, as the ids of its parts in order; the first names the message. */
  recordMessage(partIds: readonly string[]): void {
    const id = partIds[0];
    if (id === undefined) return;
    const message: Message = { id, parts: partIds.map(() => undefined), until: this.#now() + this.#ttlMs };
    this.#messages.delete(id);
    this.#messages.set(id, message);
    partIds.forEach((partId, index) => {
      const exact = normalise(partId);
      this.#parts.set(exact, { message, index, exact: true });
      for (const alias of otherBases(exact)) if (!this.#parts.get(alias)?.exact) this.#parts.set(alias, { message, index, exact: false });
    });
    this.#prune();
  }

  /** The SMSC took this outbox row's try as message `id`. */
  recordAccepted(outboxKey: string, id: string): void {
    this.#accepted.delete(outboxKey);
    this.#accepted.set(outboxKey, { id, until: this.#now() + this.#ttlMs });
    this.#prune();
  }

  accepted(outboxKey: string): string | null {
    const entry = this.#accepted.get(outboxKey);
    return entry && entry.until > this.#now() ? entry.id : null;
  }

  /**
   * A receipt for part `partId` said `status`: the message it belongs to and the message's status
   * now, or null when the id is not one of ours.
   */
  receipt(partId: string, status: Status): { messageId: string; status: Status } | null {
    const exact = normalise(partId);
    const found = this.#parts.get(exact) ?? otherBases(exact).map((alias) => this.#parts.get(alias)).find((p) => p !== undefined);
    if (!found || found.message.until <= this.#now()) return null;
    const { message, index } = found;
    // A late "sent" (ENROUTE) does not undo a part's final state.
    const before = message.parts[index];
    if (before === undefined || before === "sent") message.parts[index] = status;
    return { messageId: message.id, status: overall(message.parts) };
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, message] of this.#messages) {
      if (this.#messages.size <= this.#max && message.until > now) break;
      this.#messages.delete(id);
    }
    for (const [id, part] of this.#parts) {
      if (this.#parts.size <= this.#max * 4 && this.#messages.get(part.message.id) === part.message) break;
      this.#parts.delete(id);
    }
    for (const [key, entry] of this.#accepted) {
      if (this.#accepted.size <= this.#max && entry.until > now) break;
      this.#accepted.delete(key);
    }
  }
}

function overall(parts: ReadonlyArray<Status | undefined>): Status {
  if (parts.includes("failed")) return "failed";
  if (parts.includes("undelivered")) return "undelivered";
  if (parts.every((p) => p === "delivered")) return "delivered";
  return "sent";
}

const normalise = (id: string) => id.trim().toLowerCase().replace(/^0+(?=.)/, "");

/** The id read in the other base: decimal digits as hex, hex digits as decimal (ids up to 64 bits). */
function otherBases(id: string): string[] {
  const aliases: string[] = [];
  if (/^[0-9]{1,20}$/.test(id)) aliases.push(BigInt(id).toString(16));
  if (/^[0-9a-f]{1,16}$/.test(id)) aliases.push(BigInt(`0x${id}`).toString(10));
  return aliases.filter((alias) => alias !== id);
}
