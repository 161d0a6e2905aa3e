import { describe, expect, it } from "vitest";
import { DEFAULT_GUARD_OPTIONS, guardOptions, inboundGuard, nearSame, type GuardInput, type RecentMessage } from "../../src/inbox/inboundGuard.js";
import { ORDINARY_SENTENCES, WHATSAPP_RECONNECT_BURST } from "../support/residentBursts.js";

const T0 = Date.parse("2025-03-12T08:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

/**
 * A resident's recent messages as the inbox reads them: oldest first here for readability, newest
 * first in the result (the current message is the last one given). `answered: false` means the bot
 * stayed silent.
 */
function recent(...script: Array<{ at: number; text: string; answered?: boolean }>): RecentMessage[] {
  const rows: RecentMessage[] = [];
  script.forEach((m, i) => {
    const id = (i + 1) * 10;
    rows.push({ id, direction: "inbound", inReplyToId: null, body: m.text, createdAt: at(m.at) });
    const last = i === script.length - 1;
    if (!last && m.answered !== false) rows.push({ id: id + 1, direction: "outbound", inReplyToId: id, body: "bot reply", createdAt: at(m.at) });
  });
  return rows.reverse();
}

const input = (fields: Partial<GuardInput> & Pick<GuardInput, "recent">): GuardInput => ({
  now: fields.recent[0]!.createdAt,
  pause: null,
  keyword: false,
  optedOut: false,
  ...fields,
});

/** `count` varied short messages (a person tapping through menus, or a flood), `gap` seconds apart. */
const burst = (count: number, gap: number, from = 0) => {
  const words = ["1", "2", "hello", "مرحبا", "3", "yes", "نعم", "ok", "شكرا", "menu", "4", "help?"];
  return Array.from({ length: count }, (_, i) => ({ at: from + i * gap, text: words[i % words.length]! }));
};

describe("the per-phone budget", () => {
  it("answers up to the limit within the window", () => {
    expect(inboundGuard(input({ recent: recent(...burst(20, 1)) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("one message over the limit: pause for the rate, with one notice", () => {
    const decision = inboundGuard(input({ recent: recent(...burst(21, 1)) }), DEFAULT_GUARD_OPTIONS);
    expect(decision).toEqual({ reply: "notice", pause: { reason: "rate", since: at(20) } });
  });

  it("messages older than the window do not count", () => {
    const spread = [...burst(15, 1), ...burst(15, 1, 601)];
    expect(inboundGuard(input({ recent: recent(...spread) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("while paused for the rate: silence, no second notice, until the window holds at most half the limit", () => {
    const pause = { reason: "rate" as const, since: at(20) };
    const flood = burst(40, 1).map((m, i) => ({ ...m, answered: i < 20 }));
    expect(inboundGuard(input({ recent: recent(...flood), pause }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "silent" });
    // Ten minutes later the flood has left the window: 11 messages in it still keeps the pause...
    const slowing = [...flood, ...burst(11, 5, 640).map((m) => ({ ...m, answered: false }))];
    expect(inboundGuard(input({ recent: recent(...slowing), pause }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "silent" });
    // ...and 10 (half the limit) lifts it.
    const calm = [...flood, ...burst(10, 5, 640).map((m) => ({ ...m, answered: false }))];
    expect(inboundGuard(input({ recent: recent(...calm), pause }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer", pause: null });
  });

  it("an opted-out resident over the limit gets no notice (opted out means silence), but the pause is recorded", () => {
    expect(inboundGuard(input({ recent: recent(...burst(21, 1)), optedOut: true }), DEFAULT_GUARD_OPTIONS)).toEqual({
      reply: "silent",
      pause: { reason: "rate", since: at(20) },
    });
  });

  it("an opt-out or opt-in keyword always reaches the engine, paused or not", () => {
    const pause = { reason: "rate" as const, since: at(20) };
    expect(inboundGuard(input({ recent: recent(...burst(30, 1)), pause, keyword: true }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
    expect(inboundGuard(input({ recent: recent(...burst(21, 1)), keyword: true }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
    const loop = { reason: "loop" as const, since: at(5) };
    expect(inboundGuard(input({ recent: recent(...burst(8, 1)), pause: loop, keyword: true }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("limits come from the options", () => {
    const options = guardOptions({ rateLimit: 3, rateWindowMinutes: 1 });
    expect(inboundGuard(input({ recent: recent(...burst(3, 10)) }), options)).toEqual({ reply: "answer" });
    expect(inboundGuard(input({ recent: recent(...burst(4, 10)) }), options).reply).toBe("notice");
    expect(inboundGuard(input({ recent: recent(...burst(4, 30)) }), options).reply).toBe("answer");
  });
});

describe("the loop breaker", () => {
  const autoreply = "I am away until Monday 17/03 and will answer your message when I am back. Ref 4411";

  it("the same text answered five times in a row: pause for a loop, silently", () => {
    const same = Array.from({ length: 6 }, (_, i) => ({ at: i * 30, text: "Thank you for your message" }));
    expect(inboundGuard(input({ recent: recent(...same.slice(0, 5)) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
    expect(inboundGuard(input({ recent: recent(...same) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "silent", pause: { reason: "loop", since: at(150) } });
  });

  it("an autoresponder whose text differs only in a counter or a date is near-same", () => {
    const texts = Array.from({ length: 6 }, (_, i) => ({ at: i * 30, text: autoreply.replace("4411", String(4411 + i)).replace("17/03", `1${i}/03`) }));
    expect(inboundGuard(input({ recent: recent(...texts) }), DEFAULT_GUARD_OPTIONS).pause).toEqual({ reason: "loop", since: at(150) });
  });

  it("long near-same answers faster than anyone types, five in a row, are a loop", () => {
    const echoes = [
      { at: 0, text: "hi" },
      ...Array.from({ length: 5 }, (_, i) => ({ at: 1 + i, text: `Echo ${"abcdefghij".slice(i)}: we did not understand. Reply 1 to report a problem, 2 for status` })),
    ];
    expect(inboundGuard(input({ recent: recent(...echoes.slice(0, 5)) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
    expect(inboundGuard(input({ recent: recent(...echoes) }), DEFAULT_GUARD_OPTIONS).pause?.reason).toBe("loop");
  });

  // Changed rule (review of issue 7 part 5): speed alone never makes a loop. The bot answers in the
  // same request, so in a burst every message arrives "sooner than anyone types" after our reply.
  it("speed alone is never a loop: six ordinary sentences two seconds apart, each answered", () => {
    const sentences = ORDINARY_SENTENCES;
    for (const s of sentences) expect([...s].length).toBeGreaterThanOrEqual(43);
    const burst = sentences.map((text, i) => ({ at: i * 2, text }));
    for (let n = 1; n <= burst.length; n++) expect(inboundGuard(input({ recent: recent(...burst.slice(0, n)) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("a WhatsApp reconnect delivering eight different queued messages within a second is no loop", () => {
    const queued = WHATSAPP_RECONNECT_BURST;
    const burst = queued.map((text, i) => ({ at: i * 0.12, text }));
    for (let n = 1; n <= burst.length; n++) expect(inboundGuard(input({ recent: recent(...burst.slice(0, n)) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("a loop needs most of the streak near-same or echoing: three of five with two fast others is one, two of five is not", () => {
    const long = (i: number) => `Lorem ipsum ${i}: ${["alpha beta gamma", "delta epsilon zeta", "eta theta iota"][i % 3]} kappa lambda`;
    const three = [
      { at: 0, text: autoreply },
      { at: 1, text: autoreply },
      { at: 2, text: long(1) },
      { at: 3, text: autoreply },
      { at: 4, text: long(2) },
      { at: 5, text: autoreply },
    ];
    expect(inboundGuard(input({ recent: recent(...three) }), DEFAULT_GUARD_OPTIONS).pause?.reason).toBe("loop");
    const two = [
      { at: 0, text: autoreply },
      { at: 1, text: autoreply },
      { at: 2, text: long(1) },
      { at: 3, text: autoreply },
      { at: 4, text: long(2) },
      { at: 5, text: long(3) },
    ];
    expect(inboundGuard(input({ recent: recent(...two) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("an echo of our reply, even quoted inside a longer text, counts", () => {
    const rows: RecentMessage[] = [];
    for (let i = 0; i < 6; i++) {
      const id = (i + 1) * 10;
      rows.push({ id, direction: "inbound", inReplyToId: null, body: i === 0 ? "hello" : `Automatic reply ${i}: we received "Sorry, I did not understand that." Thank you`, createdAt: at(i * 40) });
      if (i < 5) rows.push({ id: id + 1, direction: "outbound", inReplyToId: id, body: "Sorry, I did not understand that.", createdAt: at(i * 40) });
    }
    expect(inboundGuard(input({ recent: rows.reverse() }), DEFAULT_GUARD_OPTIONS).pause?.reason).toBe("loop");
  });

  it("bare numbers and menu words never count: ten taps of 1 (or yes, or a code) answered are no loop; a long repeated text still is", () => {
    for (const tap of ["1", "١", "yes", "ok", "نعم", "4821", "menu"]) {
      const taps = [{ at: 0, text: "hello" }, ...Array.from({ length: 10 }, (_, i) => ({ at: 1 + i, text: tap }))];
      for (let n = 1; n <= taps.length; n++) expect(inboundGuard(input({ recent: recent(...taps.slice(0, n)) }), DEFAULT_GUARD_OPTIONS), `${tap} × ${n}`).toEqual({ reply: "answer" });
    }
    const robot = [{ at: 0, text: "1" }, ...Array.from({ length: 6 }, (_, i) => ({ at: 60 + i * 60, text: autoreply }))];
    expect(inboundGuard(input({ recent: recent(...robot) }), DEFAULT_GUARD_OPTIONS).pause?.reason).toBe("loop");
  });

  it("a person is not a loop: menu numbers, short quick taps, varied sentences, photos", () => {
    const person = [
      { at: 0, text: "في جورة كبيرة بالطريق العام قدام الجامع" },
      { at: 20, text: "1" },
      { at: 45, text: "قدام الجامع الكبير، جنب الفرن" },
      { at: 60, text: "1" },
      { at: 62, text: "1" },
      { at: 63, text: "1" },
      { at: 80, text: "" },
      { at: 81, text: "" },
      { at: 82, text: "" },
      { at: 83, text: "" },
      { at: 84, text: "" },
      { at: 85, text: "" },
      { at: 140, text: "The street light near the school has been off for three days now" },
      { at: 170, text: "It is the second pole after the bakery on the main road" },
    ];
    for (let n = 1; n <= person.length; n++) expect(inboundGuard(input({ recent: recent(...person.slice(0, n)) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("repeats of messages the bot did not answer are no loop (a robot answers our replies)", () => {
    const unanswered = Array.from({ length: 8 }, (_, i) => ({ at: i * 30, text: "Thank you for your message", answered: false }));
    expect(inboundGuard(input({ recent: recent(...unanswered) }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer" });
  });

  it("a loop pause holds while messages keep coming and lifts after an hour of quiet", () => {
    const pause = { reason: "loop" as const, since: at(150) };
    const loop = Array.from({ length: 8 }, (_, i) => ({ at: i * 30, text: autoreply, answered: i < 6 }));
    expect(inboundGuard(input({ recent: recent(...loop), pause }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "silent" });
    const later = [...loop, { at: 210 + 3600, text: "hello, is anyone there?" }];
    expect(inboundGuard(input({ recent: recent(...later), pause }), DEFAULT_GUARD_OPTIONS)).toEqual({ reply: "answer", pause: null });
  });
});

describe("near-same messages", () => {
  it.each([
    ["Thank you", "thank   YOU", true],
    ["رقم الطلب ١٢٣", "رقم الطلب 456", true],
    ["إنتظر", "انتظر", true],
    ["Your code is 1234 valid until 12/03/2025 at 10:00", "Your code is 9876 valid until 13/03/2025 at 11:30", true],
    ["Out of office until Monday, for urgent matters call the front desk on the number below", "Out of office until Tuesday, for urgent matters call the front desk on the number below", true],
    ["Ref 1", "Ref 2", true],
    // A bare number or a menu word is a choice, a reference or a code: never near-same, even to
    // itself (changed: a resident tapping "1" again and again is confused, not a robot).
    ["1", "2", false],
    ["1", "1", false],
    ["١", "1", false],
    ["4821", "4821", false],
    ["ok", "OK", false],
    ["yes", "yes", false],
    ["menu", "Menu", false],
    ["yes", "no", false],
    ["The pipe is broken on our street since the morning", "The light is out near the school since last night", false],
    ["", "", false],
    ["👍", "👍", false],
  ])("%s ~ %s: %s", (a, b, same) => {
    expect(nearSame(a, b)).toBe(same);
  });
});

describe("options", () => {
  it("documented defaults, overridden one by one, refused when not positive whole numbers", () => {
    expect(DEFAULT_GUARD_OPTIONS).toMatchObject({ rateLimit: 20, rateWindowMinutes: 10, loopRepeatLimit: 5, loopQuietMinutes: 60 });
    expect(guardOptions({ loopRepeatLimit: 3 })).toEqual({ ...DEFAULT_GUARD_OPTIONS, loopRepeatLimit: 3 });
    expect(() => guardOptions({ rateLimit: 0 })).toThrow(/rateLimit/);
    expect(() => guardOptions({ rateWindowMinutes: 1.5 })).toThrow(/rateWindowMinutes/);
  });
});
