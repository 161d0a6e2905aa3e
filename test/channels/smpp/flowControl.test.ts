import { describe, expect, it } from "vitest";
import { Pacer, Window } from "../../../src/channels/smpp/flowControl.js";

describe("Pacer", () => {
  it("spaces turns 1/perSecond apart; ready() waits without taking a turn", async () => {
    let time = 0;
    const waits: number[] = [];
    const pacer = new Pacer(5, () => time, async (ms) => void (waits.push(ms), (time += ms)));
    await pacer.take();
    await pacer.take();
    await pacer.take();
    expect(waits).toEqual([200, 200]);
    await pacer.ready();
    expect(waits).toEqual([200, 200, 200]);
    await pacer.take();
    expect(waits).toEqual([200, 200, 200]);
    time += 1000;
    await pacer.ready();
    await pacer.take();
    expect(waits).toEqual([200, 200, 200]);
  });

  it("rejects when the signal aborts", async () => {
    const pacer = new Pacer(1, () => 0, async () => {});
    await expect(pacer.ready(AbortSignal.abort())).rejects.toThrow();
  });
});

describe("Window", () => {
  it("lets `size` holders in at once, the next when one leaves, and none once closed", async () => {
    const window = new Window(2);
    const entered: number[] = [];
    const holders = [1, 2, 3].map((n) => window.acquire().then(() => entered.push(n)));
    await Promise.all(holders.slice(0, 2));
    await Promise.resolve();
    expect(entered).toEqual([1, 2]);
    window.release();
    await holders[2];
    expect(entered).toEqual([1, 2, 3]);
    const waiting = window.acquire();
    window.close(new Error("closed"));
    await expect(waiting).rejects.toThrow("closed");
    await expect(window.acquire()).rejects.toThrow("closed");
  });
});
