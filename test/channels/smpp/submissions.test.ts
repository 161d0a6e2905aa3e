import { describe, expect, it } from "vitest";
import { Submissions, type Origin } from "../../../src/channels/smpp/submissions.js";

const ORIGIN: Origin = { outboxId: 7, attempt: 1 };

/** A message of `partIds.length` parts that the SMSC took whole, as `send` records it. */
function record(s: Submissions, partIds: readonly string[], origin: Origin = { outboxId: partIds.join().length, attempt: 1 }, content = partIds.join()) {
  const submission = s.begin(origin, content, partIds.length, () => 0);
  partIds.forEach((id, index) => s.accept(submission, index, id));
  return submission;
}

describe("Submissions", () => {
  it("maps a receipt for any part to the first part's id, and the message's status follows all its parts", () => {
    const s = new Submissions({ now: () => 0 });
    record(s, ["A1", "A2", "A3"], ORIGIN);
    expect(s.receipt("A2", "delivered")).toEqual({ messageId: "A1", status: "sent", origin: ORIGIN, complete: true });
    expect(s.receipt("A1", "delivered")).toMatchObject({ messageId: "A1", status: "sent" });
    expect(s.receipt("A3", "delivered")).toMatchObject({ messageId: "A1", status: "delivered" });
    // A late ENROUTE does not undo it.
    expect(s.receipt("A3", "sent")).toMatchObject({ messageId: "A1", status: "delivered" });
  });

  it("reports a message failed or undelivered as soon as one part is", () => {
    const s = new Submissions({ now: () => 0 });
    record(s, ["B1", "B2"]);
    expect(s.receipt("B2", "undelivered")).toMatchObject({ messageId: "B1", status: "undelivered" });
    expect(s.receipt("B1", "failed")).toMatchObject({ messageId: "B1", status: "failed" });
  });

  it.each([
    ["hex id, decimal receipt", "1a2b01", "1714945"],
    ["decimal id, hex receipt", "1714945", "1A2B01"],
    ["zero-padded receipt", "1a2b01", "0001a2b01"],
    ["upper-case id", "ABC-9", "abc-9"],
  ])("matches a receipt id across bases and spellings: %s", (_name, submitted, receipted) => {
    const s = new Submissions({ now: () => 0 });
    record(s, [submitted]);
    expect(s.receipt(receipted, "delivered")).toMatchObject({ messageId: submitted, status: "delivered" });
  });

  it("prefers an exact id over another id's alias", () => {
    const s = new Submissions({ now: () => 0 });
    record(s, ["10"], { outboxId: 1 });
    record(s, ["a"], { outboxId: 2 });
    expect(s.receipt("10", "delivered")?.messageId).toBe("10");
    expect(s.receipt("a", "delivered")?.messageId).toBe("a");
  });

  it("knows the outbox row and try of a message, without an attempt when the request had none", () => {
    const s = new Submissions({ now: () => 0 });
    record(s, ["C1"], { outboxId: 12, attempt: undefined });
    expect(s.receipt("C1", "failed")?.origin).toStrictEqual({ outboxId: 12 });
  });

  it("keeps the parts a try got taken, and continues the same submission (same reference) for the same content", () => {
    const s = new Submissions({ now: () => 0 });
    let refs = 40;
    const first = s.begin(ORIGIN, "text", 3, () => ++refs);
    expect(s.accept(first, 0, "D1")).toBe(false);
    // Part 2 refused: not all taken, nothing for findAccepted; a receipt for part 1 is about an incomplete message.
    expect(s.accepted(ORIGIN)).toBeNull();
    expect(s.receipt("D1", "delivered")).toEqual({ messageId: "D1", status: "sent", origin: ORIGIN, complete: false });
    const again = s.begin(ORIGIN, "text", 3, () => ++refs);
    expect(again).toBe(first);
    expect(again.ref).toBe(41);
    expect(again.ids).toEqual(["D1", undefined, undefined]);
    expect(s.accept(again, 1, "D2")).toBe(false);
    expect(s.accept(again, 2, "D3")).toBe(true);
    expect(s.accepted(ORIGIN)).toBe("D1");
    // A second id for a part (submitted again while the first answer was late) maps to the message too.
    s.accept(again, 2, "D3b");
    expect(again.ids).toEqual(["D1", "D2", "D3"]);
    expect(s.receipt("D3b", "delivered")).toMatchObject({ messageId: "D1", complete: true });
    // Other content, or another try, is a new submission with a new reference.
    expect(s.begin(ORIGIN, "other text", 3, () => ++refs).ref).toBe(42);
    expect(s.begin({ ...ORIGIN, attempt: 2 }, "text", 3, () => ++refs).ids).toEqual([undefined, undefined, undefined]);
  });

  it("forgets after ttlMs and beyond max", () => {
    let time = 0;
    const s = new Submissions({ now: () => time, ttlMs: 1000, max: 2 });
    record(s, ["X"], ORIGIN);
    expect(s.accepted(ORIGIN)).toBe("X");
    time = 1001;
    expect(s.receipt("X", "delivered")).toBeNull();
    expect(s.accepted(ORIGIN)).toBeNull();
    expect(s.begin(ORIGIN, "X", 1, () => 0).ids).toEqual([undefined]);
    record(s, ["P"], { outboxId: 1 });
    record(s, ["Q"], { outboxId: 2 });
    record(s, ["R"], { outboxId: 3 });
    expect(s.receipt("P", "delivered")).toBeNull();
    expect(s.accepted({ outboxId: 1 })).toBeNull();
    expect(s.receipt("R", "delivered")?.messageId).toBe("R");
    expect(s.accepted({ outboxId: 3 })).toBe("R");
  });
});
