import type { Sleep } from "../smpp/flowControl.js";

export interface PacingOptions {
  /** Messages a minute at most (WHATSAPP_WEB_PER_MINUTE). */
  perMinute: number;
  /** The random gap between two sends, in ms: a person does not send replies back to back. */
  gapMs?: { min: number; max: number };
  now: () => number;
  sleep: Sleep;
  random?: () => number;
}

/** 1.5 to 4.5 seconds between two messages unless said otherwise. */
export const DEFAULT_GAP_MS = { min: 1500, max: 4500 };

/**
 * The pace of a WhatsApp Web number: at most `perMinute` messages in any 60 seconds, and a random
 * gap between two of them. Volume and machine-regular timing are what WhatsApp's ban heuristics
 * look for on an unofficial client; this keeps both human-like. `ready` waits for a turn without
 * taking it (the outbox worker claims a row only then); `take` counts a send.
 */
export class WhatsAppPacer {
  readonly #options: Required<Omit<PacingOptions, "sleep" | "now" | "random">>;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  /** When the last sends happened, oldest first (at most perMinute of them). */
  readonly #sent: number[] = [];
  /** The gap drawn after the last send. */
  #gap = 0;

  constructor(options: PacingOptions) {
    if (!(options.perMinute >= 1)) throw new Error("perMinute must be at least 1");
    const gapMs = options.gapMs ?? DEFAULT_GAP_MS;
    if (!(gapMs.min >= 0 && gapMs.max >= gapMs.min)) throw new Error("gapMs must be 0 <= min <= max");
    this.#options = { perMinute: options.perMinute, gapMs };
    this.#now = options.now;
    this.#sleep = options.sleep;
    this.#random = options.random ?? Math.random;
  }

  /** How long until a message may go (0: now). */
  waitMs(): number {
    const now = this.#now();
    const last = this.#sent.at(-1);
    const afterGap = last === undefined ? 0 : last + this.#gap - now;
    const oldest = this.#sent[0];
    const afterWindow = this.#sent.length >= this.#options.perMinute && oldest !== undefined ? oldest + 60_000 - now : 0;
    return Math.max(0, afterGap, afterWindow);
  }

  /** Resolves when a message may go; rejects when `signal` aborts. */
  async ready(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await this.#sleep(wait, signal);
  }

  /** Counts a message as sent now and draws the gap before the next. */
  take(): void {
    this.#sent.push(this.#now());
    while (this.#sent.length > this.#options.perMinute) this.#sent.shift();
    const { min, max } = this.#options.gapMs;
    this.#gap = min + this.#random() * (max - min);
  }
}
