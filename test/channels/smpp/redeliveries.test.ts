import { describe, expect, it } from "vitest";
import { Redeliveries } from "../../../src/channels/smpp/redeliveries.js";

describe("Redeliveries", () => {
  it("gives a remembered id to the next message with the same fingerprint, once", () => {
    const r = new Redeliveries({ ttlMs: 1000, now: () => 0 });
    r.remember("fp", "smpp-1");
    r.remember("fp", "smpp-1");
    r.remember("fp", "smpp-2");
    expect(r.claim("other")).toBeUndefined();
    expect(r.claim("fp")).toBe("smpp-1");
    expect(r.claim("fp")).toBe("smpp-2");
    expect(r.claim("fp")).toBeUndefined();
    expect(r.size).toBe(0);
  });

  it("forgets after ttlMs, and the oldest beyond max", () => {
    let time = 0;
    const r = new Redeliveries({ ttlMs: 1000, max: 2, now: () => time });
    r.remember("a", "1");
    time = 1001;
    expect(r.claim("a")).toBeUndefined();
    r.remember("b", "2");
    r.remember("c", "3");
    r.remember("d", "4");
    expect(r.size).toBe(2);
    expect(r.claim("b")).toBeUndefined();
    expect(r.claim("d")).toBe("4");
  });
});
