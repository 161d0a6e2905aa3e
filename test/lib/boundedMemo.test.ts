import { describe, expect, it } from "vitest";
import { boundedMemo } from "../../src/lib/boundedMemo.js";
import { toE164 } from "../../src/lib/phone.js";

describe("boundedMemo", () => {
  it("computes each argument once, remembers null answers too, and starts over when full", () => {
    const calls: string[] = [];
    const upper = boundedMemo((s: string) => (calls.push(s), s === "x" ? null : s.toUpperCase()), 2);
    expect([upper("a"), upper("a"), upper("x"), upper("x")]).toEqual(["A", "A", null, null]);
    expect(calls).toEqual(["a", "x"]);
    upper("b"); // full: forgets a and x
    upper("a");
    expect(calls).toEqual(["a", "x", "b", "a"]);
  });

  it("leaves phone parsing as it was: the same number read again, or read with a WhatsApp prefix", () => {
    expect(toE164("03 123 456")).toBe("+9613123456");
    expect(toE164("whatsapp:+96171123456")).toBe("+96171123456");
    expect(toE164("+96171123456")).toBe("+96171123456");
    expect(toE164("12")).toBeNull();
    expect(toE164("12")).toBeNull();
  });
});
