import { describe, expect, it } from "vitest";
import { Submissions } from "../../../src/channels/smpp/submissions.js";

describe("Submissions", () => {
  it("maps a receipt for any part to the first part's id, and the message's status follows all its parts", () => {
    const s = new Submissions({ now: () => 0 });
    s.recordMessage(["A1", "A2", "A3"]);
    expect(s.receipt("A2", "delivered")).toEqual({ messageId: "A1", status: "sent" });
    expect(s.receipt("A1", "delivered")).toEqual({ messageId: "A1", status: "sent" });
    expect(s.receipt("A3", "delivered")).toEqual({ messageId: "A1", status: "delivered" });
    // A late ENROUTE does not undo it.
    expect(s.receipt("A3", "sent")).toEqual({ messageId: "A1", status: "delivered" });
  });

  it("reports a message failed or undelivered as soon as one part is", () => {
    const s = new Submissions({ now: () => 0 });
    s.recordMessage(["B1", "B2"]);
    expect(s.receipt("B2", "undelivered")).toEqual({ messageId: "B1", status: "undelivered" });
    expect(s.receipt("B1", "failed")).toEqual({ messageId: "B1", status: "failed" });
  });

  it.each([
    ["hex id, decimal receipt", "1a2b01", "1714945"],
    ["decimal id, hex receipt", "1714945", "1A2B01"],
    ["zero-padded receipt", "1a2b01", "0001a2b01"],
    ["upper-case id", "ABC-9", "abc-9"],
  ])("matches a receipt id across bases and spellings: %s", (_name, submitted, receipted) => {
    const s = new Submissions({ now: () => 0 });
    s.recordMessage([submitted]);
    expect(s.receipt(receipted, "delivered")).toEqual({ messageId: submitted, status: "delivered" });
  });

  it("prefers an exact id over another id's alias", () => {
    const s = new Submissions({ now: () => 0 });
    s.recordMessage(["10"]);
    s.recordMessage(["a"]);
    expect(s.receipt("10", "delivered")?.messageId).toBe("10");
    expect(s.receipt("a", "delivered")?.messageId).toBe("a");
  });

  it("forgets after ttlMs and beyond max", () => {
    let time = 0;
    const s = new Submissions({ now: () => time, ttlMs: 1000, max: 2 });
    s.recordMessage(["X"]);
    s.recordAccepted("7:1", "X");
    expect(s.accepted("7:1")).toBe("X");
    time = 1001;
    expect(s.receipt("X", "delivered")).toBeNull();
    expect(s.accepted("7:1")).toBeNull();
    s.recordMessage(["P"]);
    s.recordMessage(["Q"]);
    s.recordMessage(["R"]);
    expect(s.receipt("P", "delivered")).toBeNull();
    expect(s.receipt("R", "delivered")?.messageId).toBe("R");
  });
});
