/**
 * Gives an SMSC's redelivery of a message the providerMessageId of the first delivery.
 *
 * SMPP 3.4 gives a mobile-originated message no id, and an SMSC delivers a message again when it
 * did not get our deliver_sm_resp: the connection dropped before our answer reached it, or we
 * answered ESME_RX_T_APPN. The inbox dedupes on providerMessageId, so a redelivery must carry the
 * same id as the first delivery, while a resident sending the same text twice ("1", then "1") must
 * get two ids. Content alone cannot tell these apart; what happened to our answer can:
 *
 * - every message gets a fresh random id when it first arrives;
 * - a message whose answer the SMSC may not have read is remembered here (its fingerprint: sender,
 *   recipient, data_coding and bytes → its id) for `ttlMs` (10 minutes): one we answered with a
 *   temporary error, and, when a connection drops, every message on it still being handled or whose
 *   OK was written but not yet confirmed (the SMSC answering any later request of ours — an
 *   enquire_link, a submit_sm — proves it read the stream up to there, TCP keeping order);
 * - the next message with the same fingerprint takes the remembered id, once;
 * - (in smppChannel.ts, not here) a copy that comes while a message with the same fingerprint is
 *   still being handled on its link — the SMSC sending it again because our answer is late — takes
 *   that message's id; its own answer goes out when its own onMessage resolves.
 *
 * So a redelivery within 10 minutes is a duplicate to the inbox (no new effects), and a genuinely
 * new identical message gets its own id — unless it arrives within those 10 minutes after a
 * connection dropped before the first one's answer was confirmed and the SMSC had read it after all,
 * or while the first is still being handled (then the second is taken for a redelivery). Memory only: after a restart a redelivery gets a new
 * id, so a message committed just before a crash (and not yet answered) may be handled twice.
 */
export class Redeliveries {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  // fingerprint → ids (oldest first) with when to forget each; the Map's order is insertion order.
  readonly #entries = new Map<string, Array<{ id: string; until: number }>>();
  #size = 0;

  constructor(options: { ttlMs: number; max?: number; now: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.max ?? 10_000;
    this.#now = options.now;
  }

  /** The SMSC may deliver this message again: its next delivery takes `id`. */
  remember(fingerprint: string, id: string): void {
    const ids = this.#entries.get(fingerprint) ?? [];
    if (ids.some((entry) => entry.id === id)) return;
    ids.push({ id, until: this.#now() + this.#ttlMs });
    this.#entries.set(fingerprint, ids);
    this.#size++;
    this.#prune();
  }

  /** The id of an earlier delivery of this message, if one is remembered (and then forgotten). */
  claim(fingerprint: string): string | undefined {
    const ids = this.#entries.get(fingerprint);
    if (!ids) return undefined;
    const now = this.#now();
    let claimed: string | undefined;
    while (ids.length > 0 && claimed === undefined) {
      const entry = ids.shift();
      this.#size--;
      if (entry && entry.until > now) claimed = entry.id;
    }
    if (ids.length === 0) this.#entries.delete(fingerprint);
    return claimed;
  }

  get size(): number {
    return this.#size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [fingerprint, ids] of this.#entries) {
      while (ids.length > 0 && (this.#size > this.#max || (ids[0]?.until ?? 0) <= now)) {
        ids.shift();
        this.#size--;
      }
      if (ids.length === 0) this.#entries.delete(fingerprint);
      else if (this.#size <= this.#max) break;
    }
  }
}
