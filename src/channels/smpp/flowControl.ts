import { setTimeout as delay } from "node:timers/promises";

/** Waits `ms` (rejects when `signal` aborts). Tests pass one that does not wait. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) => delay(ms, undefined, signal ? { signal } : {});

/**
 * A bind's contracted throughput: one submit_sm every 1/perSecond of a second (a token bucket
 * holding one token), so no burst ever exceeds the rate an SMSC counts per second.
 */
export class Pacer {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  #next = Number.NEGATIVE_INFINITY;

  constructor(perSecond: number, now: () => number, sleep: Sleep) {
    this.#intervalMs = 1000 / perSecond;
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Waits for the next turn and takes it. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.#intervalMs;
    if (at > now) await this.#sleep(at - now, signal);
  }

  /** Resolves when a turn is free, without taking it. */
  async ready(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const wait = this.#next - this.#now();
    if (wait > 0) await this.#sleep(wait, signal);
  }
}

/** The SMPP window: at most `size` requests waiting for their response on one connection. */
export class Window {
  #free: number;
  readonly #waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #closed: Error | null = null;

  constructor(size: number) {
    this.#free = size;
  }

  /** Waits for a free slot; rejects once the window is closed (the connection is gone). */
  acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next.resolve();
    else this.#free++;
  }

  close(error: Error): void {
    this.#closed = error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}
