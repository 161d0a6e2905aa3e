import { afterEach, describe, expect, it } from "vitest";
import { Reassembly, type Part } from "../../../src/channels/smpp/reassembly.js";

let time = 0;
let givenUp: Array<{ replies: string[]; reason: string }> = [];
let reassembly: Reassembly<string>;

const make = (options: { timeoutMs?: number; maxPending?: number } = {}) => {
  givenUp = [];
  reassembly = new Reassembly<string>({
    timeoutMs: options.timeoutMs ?? 10_000,
    maxPending: options.maxPending ?? 10,
    rememberMs: 600_000,
    now: () => time,
    onGiveUp: (replies, reason) => givenUp.push({ replies, reason }),
  });
  return reassembly;
};
afterEach(() => reassembly.clear());

const part = (seq: number, reply: string, text = `part${seq}`): Part<string> => ({ seq, bytes: Buffer.from(text), dataCoding: 0, fingerprint: `fp-${text}`, reply });

describe("Reassembly", () => {
  it("completes once every part is in, in order, with every copy to answer", () => {
    const r = make();
    expect(r.add("k", 3, part(3, "a"))).toEqual({ kind: "waiting" });
    expect(r.add("k", 3, part(1, "b"))).toEqual({ kind: "waiting" });
    expect(r.add("k", 3, part(1, "c"))).toEqual({ kind: "waiting" });
    const added = r.add("k", 3, part(2, "d"));
    if (added.kind !== "complete") throw new Error(`expected complete, got ${added.kind}`);
    expect(added.assembly.parts.map((p) => p.bytes.toString())).toEqual(["part1", "part2", "part3"]);
    expect(r.pending).toBe(0);
    // A copy arriving while the message is handed over waits for the same answer.
    expect(r.add("k", 3, part(3, "e"))).toEqual({ kind: "waiting" });
    expect(r.settle(added.assembly, true).sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("recognises a part of a committed message delivered again, but not different content under the same reference", () => {
    const r = make();
    for (const seq of [1, 2]) {
      const added = r.add("k", 2, part(seq, `r${seq}`));
      if (added.kind === "complete") r.settle(added.assembly, true);
    }
    expect(r.add("k", 2, part(2, "again"))).toEqual({ kind: "handled" });
    expect(r.add("k", 2, part(2, "new", "other text"))).toEqual({ kind: "waiting" });
    time += 600_001;
    expect(r.add("k2", 2, part(1, "x"))).toEqual({ kind: "waiting" });
  });

  it("does not remember a message that was not committed", () => {
    const r = make();
    r.add("k", 2, part(1, "a"));
    const added = r.add("k", 2, part(2, "b"));
    if (added.kind !== "complete") throw new Error("expected complete");
    r.settle(added.assembly, false);
    expect(r.add("k", 2, part(1, "a2"))).toEqual({ kind: "waiting" });
  });

  it("gives up an incomplete message after the timeout", async () => {
    const r = make({ timeoutMs: 20 });
    r.add("k", 3, part(1, "a"));
    r.add("k", 3, part(1, "b"));
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(givenUp).toEqual([{ replies: ["a", "b"], reason: "timeout" }]);
    expect(r.pending).toBe(0);
  });

  it("gives up the oldest incomplete message beyond maxPending", () => {
    const r = make({ maxPending: 2 });
    r.add("k1", 2, part(1, "a"));
    r.add("k2", 2, part(1, "b"));
    r.add("k3", 2, part(1, "c"));
    expect(givenUp).toEqual([{ replies: ["a"], reason: "evicted" }]);
    expect(r.pending).toBe(2);
  });

  it("refuses a part sent over and over", () => {
    const r = make();
    for (let i = 0; i < 8; i++) expect(r.add("k", 2, part(1, `copy${i}`)).kind).toBe("waiting");
    expect(r.add("k", 2, part(1, "one too many"))).toEqual({ kind: "refused" });
  });
});
