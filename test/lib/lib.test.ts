import { describe, expect, it } from "vitest";
import { KeyedQueue } from "../../src/lib/keyedQueue.js";
import { maskPhone } from "../../src/lib/maskPhone.js";
import { toE164 } from "../../src/lib/phone.js";
import { smsCost } from "../../src/lib/smsSegments.js";

describe("maskPhone", () => {
  it.each([
    ["+96171123456", "+961•••••456"],
    ["whatsapp:+96171123456", "whatsapp:+961•••••456"],
    ["+14155550123", "+14••••••123"],
    ["", ""],
    [undefined, ""],
  ])("%s → %s", (phone, masked) => {
    expect(maskPhone(phone)).toBe(masked);
  });
});

describe("toE164", () => {
  it.each([
    ["03 123 456", "+9613123456"],
    ["71123456", "+96171123456"],
    ["+961 71 123 456", "+96171123456"],
    ["whatsapp:+96171123456", "+96171123456"],
    ["00961 71 123456", "+96171123456"],
    ["+14155550123", "+14155550123"],
    ["hello", null],
    ["123", null],
  ])("%s → %s", (raw, expected) => {
    expect(toE164(raw)).toBe(expected);
  });
});

describe("smsCost", () => {
  it("counts Arabic as UCS-2: 70 in one segment, 67 per segment when split", () => {
    expect(smsCost("ب".repeat(70))).toMatchObject({ segments: 1, encoding: "UCS-2" });
    expect(smsCost("ب".repeat(71)).segments).toBe(2);
    expect(smsCost("ب".repeat(134)).segments).toBe(2);
    expect(smsCost("ب".repeat(135)).segments).toBe(3);
  });

  it("counts English as GSM-7 until one curly quote turns it into UCS-2", () => {
    expect(smsCost("a".repeat(160))).toMatchObject({ segments: 1, encoding: "GSM-7" });
    expect(smsCost(`${"a".repeat(100)}’`)).toMatchObject({ segments: 2, encoding: "UCS-2" });
  });
});

describe("KeyedQueue", () => {
  it("runs one key's tasks in order, one at a time, and other keys alongside", async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string, ms: number) => () =>
      new Promise<string>((resolve) => {
        log.push(`start ${name}`);
        setTimeout(() => {
          log.push(`end ${name}`);
          resolve(name);
        }, ms);
      });
    const results = await Promise.all([queue.run("a", task("a1", 20)), queue.run("a", task("a2", 1)), queue.run("b", task("b1", 5))]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
    expect(queue.size).toBe(0);
  });

  it("a failed task does not block the next one", async () => {
    const queue = new KeyedQueue();
    await expect(queue.run("a", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(queue.run("a", async () => "next")).resolves.toBe("next");
  });
});
