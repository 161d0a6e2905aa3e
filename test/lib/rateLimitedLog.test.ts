import { describe, expect, it } from "vitest";
import { rateLimitedLog } from "../../src/lib/rateLimitedLog.js";

/** A log function that remembers its lines, and a clock the test moves by hand. */
function setup(options: { perWindow: number; windowMs: number }) {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  let now = Date.parse("2026-03-01T10:00:00Z");
  const log = rateLimitedLog((fields, message) => lines.push({ fields, message }), { ...options, clock: () => new Date(now) });
  return {
    log,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("rateLimitedLog", () => {
  it("passes every line through while under the limit", () => {
    const { log, lines } = setup({ perWindow: 3, windowMs: 60_000 });
    log({ n: 1 }, "rejected");
    log({ n: 2 }, "rejected");
    expect(lines).toEqual([
      { fields: { n: 1 }, message: "rejected" },
      { fields: { n: 2 }, message: "rejected" },
    ]);
  });

  it("writes the first N lines of a window, then one summary with the count when the next window starts", () => {
    const { log, lines, advance } = setup({ perWindow: 3, windowMs: 60_000 });
    for (let n = 1; n <= 1000; n++) log({ n }, "rejected");
    expect(lines.map((l) => l.fields.n)).toEqual([1, 2, 3]);

    advance(60_000);
    log({ n: 1001 }, "rejected");
    expect(lines.slice(3)).toEqual([
      { fields: { suppressed: 997, since: "2026-03-01T10:00:00.000Z" }, message: "rejected (997 more like this were not logged)" },
      { fields: { n: 1001 }, message: "rejected" },
    ]);
  });

  it("a new window starts with a fresh allowance", () => {
    const { log, lines, advance } = setup({ perWindow: 2, windowMs: 1_000 });
    for (let n = 1; n <= 5; n++) log({ n }, "x");
    advance(1_000);
    for (let n = 6; n <= 8; n++) log({ n }, "x");
    expect(lines.map((l) => l.fields.n ?? `summary ${String(l.fields.suppressed)}`)).toEqual([1, 2, "summary 3", 6, 7]);
  });

  it("a quiet window ends without a summary", () => {
    const { log, lines, advance } = setup({ perWindow: 2, windowMs: 1_000 });
    log({ n: 1 }, "x");
    advance(5_000);
    log({ n: 2 }, "x");
    expect(lines.map((l) => l.fields)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it("flush() writes the pending summary at once (for shutdown), and only once", () => {
    const { log, lines } = setup({ perWindow: 1, windowMs: 60_000 });
    log({ n: 1 }, "x");
    log({ n: 2 }, "x");
    log({ n: 3 }, "x");
    log.flush();
    log.flush();
    expect(lines.map((l) => l.fields)).toEqual([{ n: 1 }, { suppressed: 2, since: "2026-03-01T10:00:00.000Z" }]);
  });

  it("a clock that goes backwards does not reopen the window", () => {
    const { log, lines, advance } = setup({ perWindow: 1, windowMs: 60_000 });
    log({ n: 1 }, "x");
    advance(-30_000);
    log({ n: 2 }, "x");
    expect(lines).toHaveLength(1);
  });
});
