/** One part of a concatenated message, with what answering it takes (`R`: the PDU to respond to). */
export interface Part<R> {
  /** 1-based position in the message. */
  seq: number;
  /** The part's text bytes (after the UDH). */
  bytes: Buffer;
  dataCoding: number;
  /** Identifies the part's content: copies of one part have the same. */
  fingerprint: string;
  reply: R;
}

/** A complete message: one copy of each part in order, and every copy received (all wait for one answer). */
export interface Assembly<R> {
  key: string;
  parts: Array<Part<R>>;
  replies: R[];
}

/**
 * What became of a part:
 * - "waiting": held until the message is complete (or handed over, if it is being handed over now);
 * - "complete": the last missing part arrived — hand `assembly` over, then `settle` it;
 * - "handled": a copy of a part of a message handed over (and committed) lately — answer it as done;
 * - "refused": too many copies of one part are waiting — answer it with a temporary error.
 */
export type Added<R> = { kind: "waiting" } | { kind: "complete"; assembly: Assembly<R> } | { kind: "handled" } | { kind: "refused" };

export interface ReassemblyOptions<R> {
  /** How long the parts of an incomplete message wait for the rest. */
  timeoutMs: number;
  /** Incomplete messages held at most; the oldest is given up beyond. */
  maxPending: number;
  /** How long a handed-over message's parts are recognised when the SMSC delivers them again. */
  rememberMs: number;
  /** Handed-over messages remembered at most. */
  maxRemembered?: number;
  /** Copies of one part held at most (an SMSC re-sending a part it got no answer for). */
  maxCopies?: number;
  now: () => number;
  /** The parts of a message given up (timed out, or evicted to bound memory): to be answered with a temporary error. */
  onGiveUp(replies: R[], reason: "timeout" | "evicted"): void;
}

interface Pending<R> {
  total: number;
  parts: Map<number, Part<R>>;
  replies: R[];
  copies: Map<number, number>;
  timer: NodeJS.Timeout;
}

interface Delivering<R> {
  assembly: Assembly<R>;
  fingerprints: Map<number, string>;
}

/**
 * Puts concatenated messages back together, keyed by the caller as (sender, reference, total): the
 * key must include the total.
 * Parts may come in any order and more than once. No part is answered before its whole message has
 * been handed over and settled: `settle` returns every copy received meanwhile, to be answered with
 * the message's outcome. Incomplete messages are given up after `timeoutMs`, and the oldest when more
 * than `maxPending` wait, so memory stays bounded and the SMSC (answered with a temporary error)
 * delivers them again.
 */
export class Reassembly<R> {
  readonly #options: ReassemblyOptions<R>;
  readonly #pending = new Map<string, Pending<R>>();
  readonly #delivering = new Map<string, Delivering<R>>();
  // Messages handed over and committed: key → (part → fingerprint), with when to forget them.
  readonly #handled = new Map<string, { fingerprints: Map<number, string>; until: number }>();

  constructor(options: ReassemblyOptions<R>) {
    this.#options = options;
  }

  add(key: string, total: number, part: Part<R>): Added<R> {
    if (this.#wasHandled(key, part)) return { kind: "handled" };
    const delivering = this.#delivering.get(key);
    if (delivering && delivering.fingerprints.get(part.seq) === part.fingerprint) {
      delivering.assembly.replies.push(part.reply);
      return { kind: "waiting" };
    }
    let pending = this.#pending.get(key);
    if (!pending) {
      this.#evictBeyond(this.#options.maxPending - 1);
      pending = { total, parts: new Map(), replies: [], copies: new Map(), timer: this.#timer(key) };
      this.#pending.set(key, pending);
    }
    const copies = (pending.copies.get(part.seq) ?? 0) + 1;
    if (copies > (this.#options.maxCopies ?? 8)) return { kind: "refused" };
    pending.copies.set(part.seq, copies);
    pending.replies.push(part.reply);
    if (!pending.parts.has(part.seq)) pending.parts.set(part.seq, part);
    if (pending.parts.size < total) return { kind: "waiting" };

    clearTimeout(pending.timer);
    this.#pending.delete(key);
    const parts = [...pending.parts.values()].sort((a, b) => a.seq - b.seq);
    const assembly: Assembly<R> = { key, parts, replies: pending.replies };
    this.#delivering.set(key, { assembly, fingerprints: new Map(parts.map((p) => [p.seq, p.fingerprint])) });
    return { kind: "complete", assembly };
  }

  /**
   * The message was handed over (`handled`: committed, or not): returns every copy of its parts to
   * answer. A committed message's parts are recognised for `rememberMs` afterwards.
   */
  settle(assembly: Assembly<R>, handled: boolean): R[] {
    const delivering = this.#delivering.get(assembly.key);
    if (delivering?.assembly === assembly) this.#delivering.delete(assembly.key);
    if (handled) {
      this.#handled.delete(assembly.key);
      this.#handled.set(assembly.key, { fingerprints: new Map(assembly.parts.map((p) => [p.seq, p.fingerprint])), until: this.#options.now() + this.#options.rememberMs });
      this.#forgetOld();
    }
    return assembly.replies;
  }

  /** Incomplete messages waiting (for tests and metrics). */
  get pending(): number {
    return this.#pending.size;
  }

  /** Gives up every incomplete message at once, without answering (the connection is closing). */
  clear(): void {
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
  }

  #wasHandled(key: string, part: Part<R>): boolean {
    const handled = this.#handled.get(key);
    if (!handled) return false;
    if (handled.until <= this.#options.now()) {
      this.#handled.delete(key);
      return false;
    }
    return handled.fingerprints.get(part.seq) === part.fingerprint;
  }

  #timer(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.#giveUp(key, "timeout"), this.#options.timeoutMs);
    timer.unref();
    return timer;
  }

  #giveUp(key: string, reason: "timeout" | "evicted"): void {
    const pending = this.#pending.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(key);
    this.#options.onGiveUp(pending.replies, reason);
  }

  #evictBeyond(max: number): void {
    for (const key of this.#pending.keys()) {
      if (this.#pending.size <= Math.max(0, max)) break;
      this.#giveUp(key, "evicted");
    }
  }

  #forgetOld(): void {
    const now = this.#options.now();
    const max = this.#options.maxRemembered ?? 10_000;
    for (const [key, handled] of this.#handled) {
      if (this.#handled.size <= max && handled.until > now) break;
      this.#handled.delete(key);
    }
  }
}
