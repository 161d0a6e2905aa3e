import type { DeliveryReport } from "../sender.js";

type Status = DeliveryReport["status"];

/** The outbox row and try a message was sent for (`OutboundRequest.outboxId` and `attempt`). */
export interface Origin {
  outboxId: number;
  attempt?: number | undefined;
}

/**
 * One outbox try's message as the SMSC took it so far: the SMSC's id of each part accepted (in
 * order; the first names the message), and what the receipts said of each part.
 */
export interface Submission {
  readonly key: string;
  readonly origin: Origin;
  /** What is sent (recipient, coding and bytes of every part): a send with other content starts afresh. */
  readonly content: string;
  /** The concatenation reference its parts carry. */
  readonly ref: number;
  readonly ids: Array<string | undefined>;
  readonly statuses: Array<Status | undefined>;
  readonly until: number;
}

/** What a receipt for one part says of its message. */
export interface ReceiptMatch {
  /** The message's providerMessageId: its first part's id. */
  messageId: string;
  /** The message's status as a whole, after this receipt. */
  status: Status;
  origin: Origin;
  /** Whether the SMSC took every part of the message (if not, the outbox has not recorded it as sent). */
  complete: boolean;
}

/**
 * What this process submitted, for three questions SMPP cannot answer afterwards:
 *
 * - Which outbox row, and which message, a delivery receipt is about. A long message is several
 *   submit_sm, each with its own SMSC id and its own receipt; the send reports the FIRST part's id
 *   as the message's providerMessageId, and every part's id maps to it here, with the row and try
 *   it was sent for (so that a receipt that comes before the outbox recorded the send still finds
 *   its row). A receipt changes the message's status as a whole: failed or undelivered as soon as
 *   one part is, delivered once every part is, sent otherwise. Some SMSCs give the id in hex in
 *   submit_sm_resp and in decimal in the receipt (or the other way round, or zero-padded): ids are
 *   matched as given first, then in the other base. A receipt for an id not found here (sent before
 *   a restart, or more than `ttlMs` ago) is passed on with its id as given.
 * - Which parts of a row's try the SMSC already took: a send of the same try (same content) after a
 *   failure midway submits only the others, with the same concatenation reference, so that the
 *   resident gets every part once and the handset puts them together.
 * - Whether the SMSC accepted an outbox row's try (`findAccepted`): once every part's submit_sm_resp
 *   arrived, even after the send was reported ambiguous (an answer came too late).
 *
 * Parts are recorded as their submit_sm_resp is read, before anything else the SMSC sent after it
 * (a receipt in the same TCP segment). Memory only, bounded by count and kept `ttlMs` (48 hours by
 * default) from the try's first send.
 */
export class Submissions {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  // Outbox try ("outboxId:attempt") → its submission; the Map's order is insertion order.
  readonly #tries = new Map<string, Submission>();
  // Normalised part id (and its other-base alias) → the submission and the part's position.
  readonly #parts = new Map<string, { submission: Submission; index: number; exact: boolean }>();

  constructor(options: { ttlMs?: number; max?: number; now: () => number }) {
    this.#ttlMs = options.ttlMs ?? 48 * 3600_000;
    this.#max = options.max ?? 50_000;
    this.#now = options.now;
  }

  /**
   * The submission of this try: the one begun before when its content and number of parts are the
   * same (and it is not forgotten), else a new one with reference `newRef()`.
   */
  begin(origin: Origin, content: string, total: number, newRef: () => number): Submission {
    const key = keyOf(origin);
    const known = this.#tries.get(key);
    if (known && known.content === content && known.ids.length === total && known.until > this.#now()) return known;
    const submission: Submission = {
      key,
      origin: { outboxId: origin.outboxId, ...(origin.attempt !== undefined ? { attempt: origin.attempt } : {}) },
      content,
      ref: newRef(),
      ids: Array.from({ length: total }, () => undefined),
      statuses: Array.from({ length: total }, () => undefined),
      until: this.#now() + this.#ttlMs,
    };
    this.#tries.delete(key);
    this.#tries.set(key, submission);
    this.#prune();
    return submission;
  }

  /**
   * The SMSC took part `index` as `partId`. A second id for a part already taken (submitted again
   * while the first answer was late) is kept for its receipts only. Returns whether every part is
   * now taken.
   */
  accept(submission: Submission, index: number, partId: string): boolean {
    if (index < 0 || index >= submission.ids.length) return false;
    if (submission.ids[index] === undefined) submission.ids[index] = partId;
    const exact = normalise(partId);
    this.#parts.set(exact, { submission, index, exact: true });
    for (const alias of otherBases(exact)) if (!this.#parts.get(alias)?.exact) this.#parts.set(alias, { submission, index, exact: false });
    this.#prune();
    return complete(submission);
  }

  /** The message id of this try once the SMSC took all of it (null before, and once forgotten). */
  accepted(origin: Origin): string | null {
    const submission = this.#tries.get(keyOf(origin));
    return submission && submission.until > this.#now() && complete(submission) ? (submission.ids[0] ?? null) : null;
  }

  /**
   * A receipt for part `partId` said `status`: the message it belongs to, its status now and the try
   * it was sent for, or null when the id is not one of ours.
   */
  receipt(partId: string, status: Status): ReceiptMatch | null {
    const exact = normalise(partId);
    const found = this.#parts.get(exact) ?? otherBases(exact).map((alias) => this.#parts.get(alias)).find((p) => p !== undefined);
    if (!found || found.submission.until <= this.#now()) return null;
    const { submission, index } = found;
    // A late "sent" (ENROUTE) does not undo a part's final state.
    const before = submission.statuses[index];
    if (before === undefined || before === "sent") submission.statuses[index] = status;
    return { messageId: submission.ids[0] ?? partId, status: overall(submission.statuses), origin: submission.origin, complete: complete(submission) };
  }

  #prune(): void {
    const now = this.#now();
    for (const [key, submission] of this.#tries) {
      if (this.#tries.size <= this.#max && submission.until > now) break;
      this.#tries.delete(key);
    }
    for (const [id, part] of this.#parts) {
      if (this.#parts.size <= this.#max * 4 && part.submission.until > now && this.#tries.get(part.submission.key) === part.submission) break;
      this.#parts.delete(id);
    }
  }
}

/** "outboxId:attempt": one try of one outbox row. */
export const keyOf = (origin: Origin) => `${origin.outboxId}:${origin.attempt ?? ""}`;

const complete = (submission: Submission) => submission.ids.every((id) => id !== undefined);

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
