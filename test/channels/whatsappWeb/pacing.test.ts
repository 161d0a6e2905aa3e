import { describe, expect, it } from "vitest";
import type { Sleep } from "../../../src/channels/smpp/flowControl.js";
import { DEFAULT_GAP_MS, WhatsAppPacer, type PacingOptions } from "../../../src/channels/whatsappWeb/pacing.js";

/** A clock that only moves when the pacer sleeps (or the test says so), and a record of each sleep. */
function fakeTime() {
  const time = { now: 0, sleeps: [] as number[] };
  const sleep: Sleep = async (ms, signal) => {
    signal?.throwIfAborted();
    time.sleeps.push(ms);
    time.now += ms;
  };
  return { time, now: () => time.now, sleep };
}

/** The same "random" numbers every run (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const noGap = { min: 0, max: 0 };

describe("WhatsAppPacer", () => {
  it("at 20 a minute, the 21st message waits until the first is 60 s old, the 22nd until the second is", async () => {
    const { time, now, sleep } = fakeTime();
    const pacer = new WhatsAppPacer({ perMinute: 20, gapMs: noGap, now, sleep });
    for (let n = 0; n < 20; n++) {
      time.now = n * 1000;
      await pacer.ready();
      pacer.take();
    }
    expect(time.sleeps).toEqual([]);

    await pacer.ready();
    expect(time.sleeps).toEqual([41_000]);
    expect(time.now).toBe(60_000);
    pacer.take();

    await pacer.ready();
    expect(time.now).toBe(61_000);
  });

  it("leaves a random gap between gapMs.min and gapMs.max after each message", async () => {
    const { time, now, sleep } = fakeTime();
    const draws = [0, 1, 0.5, 0.25];
    const pacer = new WhatsAppPacer({ perMinute: 60, gapMs: { min: 1500, max: 4500 }, now, sleep, random: () => draws.shift() ?? 0 });

    await pacer.ready();
    pacer.take();
    for (let n = 0; n < 3; n++) {
      await pacer.ready();
      pacer.take();
    }
    expect(time.sleeps).toEqual([1500, 4500, 3000]);

    // Time spent elsewhere (the send itself) counts towards the gap.
    time.now += 1000;
    await pacer.ready();
    expect(time.sleeps.at(-1)).toBe(1250);
  });

  it("uses 1.5 to 4.5 s gaps unless told otherwise", async () => {
    const { time, now, sleep } = fakeTime();
    const draws = [0, 1];
    const pacer = new WhatsAppPacer({ perMinute: 20, now, sleep, random: () => draws.shift() ?? 0 });
    pacer.take();
    await pacer.ready();
    pacer.take();
    await pacer.ready();
    expect(time.sleeps).toEqual([DEFAULT_GAP_MS.min, DEFAULT_GAP_MS.max]);
    expect(DEFAULT_GAP_MS).toEqual({ min: 1500, max: 4500 });
  });

  it("ready() waits for a turn without taking it", async () => {
    const { time, now, sleep } = fakeTime();
    const pacer = new WhatsAppPacer({ perMinute: 1, gapMs: noGap, now, sleep });
    await pacer.ready();
    await pacer.ready();
    await pacer.ready();
    expect(time.sleeps).toEqual([]);

    pacer.take();
    await pacer.ready();
    await pacer.ready();
    expect(time.sleeps).toEqual([60_000]);
  });

  it("ready() rejects at once on an aborted signal, without sleeping", async () => {
    const { time, now, sleep } = fakeTime();
    const pacer = new WhatsAppPacer({ perMinute: 1, gapMs: noGap, now, sleep });
    await expect(pacer.ready(AbortSignal.abort(new Error("shutting down")))).rejects.toThrow("shutting down");
    expect(time.sleeps).toEqual([]);
  });

  it("ready() rejects when the signal aborts mid-wait, and the abandoned wait does not count as a send", async () => {
    let time = 0;
    const pending: number[] = [];
    // A sleep that never ends by itself: only the abort ends it.
    const sleep: Sleep = (ms, signal) =>
      new Promise((_resolve, reject) => {
        pending.push(ms);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    const pacer = new WhatsAppPacer({ perMinute: 1, gapMs: noGap, now: () => time, sleep });
    pacer.take();

    const controller = new AbortController();
    const waiting = pacer.ready(controller.signal);
    await Promise.resolve();
    expect(pending).toEqual([60_000]);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow("stopping");

    // Once the first send is a minute old the next goes straight away: the aborted wait took nothing.
    time = 60_000;
    expect(pacer.waitMs()).toBe(0);
    await pacer.ready();
    expect(pending).toEqual([60_000]);
  });

  it.each<[string, Partial<PacingOptions>]>([
    ["perMinute 0", { perMinute: 0 }],
    ["a negative perMinute", { perMinute: -5 }],
    ["perMinute NaN", { perMinute: Number.NaN }],
    ["a negative gap", { gapMs: { min: -1, max: 10 } }],
    ["max below min", { gapMs: { min: 2000, max: 1000 } }],
    ["a NaN gap", { gapMs: { min: Number.NaN, max: 1000 } }],
  ])("refuses %s", (_name, override) => {
    const { now, sleep } = fakeTime();
    expect(() => new WhatsAppPacer({ perMinute: 20, now, sleep, ...override })).toThrow(/perMinute|gapMs/);
  });

  it("accepts a fixed gap (min = max) and a zero gap", () => {
    const { now, sleep } = fakeTime();
    expect(() => new WhatsAppPacer({ perMinute: 1, gapMs: { min: 2000, max: 2000 }, now, sleep })).not.toThrow();
    expect(() => new WhatsAppPacer({ perMinute: 1, gapMs: noGap, now, sleep })).not.toThrow();
  });

  // `idle`: how often the outbox has nothing to send for a while (up to 90 s) before the next message.
  it.each([
    { perMinute: 1, gapMs: DEFAULT_GAP_MS, idle: 0.2, seed: 1 },
    { perMinute: 5, gapMs: DEFAULT_GAP_MS, idle: 0.2, seed: 2 },
    { perMinute: 20, gapMs: DEFAULT_GAP_MS, idle: 0.2, seed: 3 },
    { perMinute: 20, gapMs: DEFAULT_GAP_MS, idle: 0, seed: 4 },
    { perMinute: 20, gapMs: { min: 0, max: 500 }, idle: 0.1, seed: 5 },
    { perMinute: 60, gapMs: DEFAULT_GAP_MS, idle: 0.1, seed: 6 },
    { perMinute: 60, gapMs: noGap, idle: 0, seed: 7 },
  ])("over 100 sends at $perMinute a minute ($gapMs ms gaps, idle $idle), no 60 s window holds more and every gap is at least the minimum", async ({ perMinute, gapMs, idle, seed }) => {
    const { time, now, sleep } = fakeTime();
    const random = seededRandom(seed);
    const pacer = new WhatsAppPacer({ perMinute, gapMs, now, sleep, random: seededRandom(seed + 100) });
    const sentAt: number[] = [];
    for (let n = 0; n < 100; n++) {
      // The outbox is sometimes busy, sometimes idle for a while between messages.
      time.now += random() < idle ? Math.floor(random() * 90_000) : Math.floor(random() * 800);
      await pacer.ready();
      sentAt.push(time.now);
      pacer.take();
      // The send itself takes a little time.
      time.now += Math.floor(random() * 300);
    }

    // Any 60 s window [t, t + 60 s) holds at most perMinute sends ⇔ send i and send i+perMinute are ≥ 60 s apart.
    for (let i = 0; i + perMinute < sentAt.length; i++) expect(sentAt[i + perMinute]! - sentAt[i]!, `sends ${i} and ${i + perMinute}`).toBeGreaterThanOrEqual(60_000);
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!, `gap before send ${i}`).toBeGreaterThanOrEqual(gapMs.min);
    // It paces, it does not stall: no wait is longer than a full window or the longest gap.
    for (const ms of time.sleeps) expect(ms).toBeLessThanOrEqual(Math.max(60_000, gapMs.max));
  });
});
