import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { WwebMessage } from "../../../src/channels/whatsappWeb/client.js";
import { catchUp, ChatLanes } from "../../../src/channels/whatsappWeb/ordering.js";
import { FakeClient, wwebMessage } from "./fakeClient.js";

const RIMA = "96171123456@c.us";
const SAMI = "96170111222@c.us";
const HIDDEN = "123456789012345@lid";
const T0 = 1_740_816_000;

/** A logger whose lines the test can read. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** A message from `from` saying `body`, at T0 + `second`. */
const said = (from: string, body: string, second: number, fields: Partial<WwebMessage> = {}) => wwebMessage({ from, body, timestamp: T0 + second, ...fields });

/** A promise the test settles by hand. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("catching up after a restart", () => {
  it("hands over each person's unread messages oldest first, skips our own, and then marks the chat seen", async () => {
    const fake = new FakeClient();
    fake.chats = [
      // fetchMessages does not promise the order: a late-synced message comes last.
      { id: RIMA, unread: [said(RIMA, "hello", 1), said(RIMA, "photo of the pothole", 30), said(RIMA, "we are closed today", 20, { fromMe: true }), said(RIMA, "1", 10)] },
      { id: SAMI, unread: [said(SAMI, "street light out", 5)] },
      { id: HIDDEN, unread: [said(HIDDEN, "مرحبا", 7)] },
    ];
    const handled: string[] = [];
    const { logger } = recordingLogger();
    const counts = await catchUp(fake, async (m) => void handled.push(`${m.from} ${m.body}`), { logger });
    expect(handled.filter((h) => h.startsWith(RIMA))).toEqual([`${RIMA} hello`, `${RIMA} 1`, `${RIMA} photo of the pothole`]);
    expect(handled).toContain(`${SAMI} street light out`);
    expect(handled).toContain(`${HIDDEN} مرحبا`);
    expect(counts).toEqual({ chats: 3, messages: 5, failed: 0, tooOld: 0 });
    expect(fake.chats.map((c) => c.seen)).toEqual([true, true, true]);
  });

  it("keeps WhatsApp's order for a burst sent within one second", async () => {
    const fake = new FakeClient();
    const burst = ["there is", "a big hole", "on the main road", "near the school"].map((body) => said(RIMA, body, 3));
    fake.chats = [{ id: RIMA, unread: burst }];
    const handled: string[] = [];
    await catchUp(fake, async (m) => void handled.push(m.body), { logger: recordingLogger().logger });
    expect(handled).toEqual(["there is", "a big hole", "on the main road", "near the school"]);
  });

  it("leaves groups, statuses and read chats alone", async () => {
    const fake = new FakeClient();
    fake.chats = [
      { id: "120363025246125486@g.us", unread: [said("120363025246125486@g.us", "hi all", 1)] },
      { id: "status@broadcast", unread: [said("status@broadcast", "my day", 1)] },
      { id: "120363000000000000@newsletter", unread: [said("120363000000000000@newsletter", "news", 1)] },
      { id: RIMA, unread: [said(RIMA, "old", 1)], seen: true },
    ];
    const handled: WwebMessage[] = [];
    const counts = await catchUp(fake, async (m) => void handled.push(m), { logger: recordingLogger().logger });
    expect(handled).toEqual([]);
    expect(counts).toEqual({ chats: 0, messages: 0, failed: 0, tooOld: 0 });
    expect(fake.chats.slice(0, 3).map((c) => c.seen)).toEqual([undefined, undefined, undefined]);
  });

  it("takes at most the newest `maxPerChat` messages of a chat, and says how many it left out", async () => {
    const fake = new FakeClient();
    fake.chats = [{ id: RIMA, unread: Array.from({ length: 60 }, (_, i) => said(RIMA, `m${i}`, i)) }];
    const handled: string[] = [];
    const { logger, lines } = recordingLogger();
    const counts = await catchUp(fake, async (m) => void handled.push(m.body), { logger, maxPerChat: 50 });
    expect(handled).toHaveLength(50);
    expect(handled[0]).toBe("m10");
    expect(handled.at(-1)).toBe("m59");
    expect(counts.messages).toBe(50);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, chat: "961•••••456@c.us", leftOut: 10, msg: expect.stringContaining("left out") }));
    expect(JSON.stringify(lines)).not.toContain("71123456");
  });

  it("says so even on a quiet sweep when the chat is then marked seen: those messages are no longer unread anywhere", async () => {
    const fake = new FakeClient();
    fake.chats = [{ id: RIMA, unread: Array.from({ length: 5 }, (_, i) => said(RIMA, `m${i}`, i)) }];
    const { logger, lines } = recordingLogger();
    await catchUp(fake, async () => undefined, { logger, maxPerChat: 3, quiet: true });
    expect(fake.chats[0]?.seen).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, leftOut: 2 }));
  });

  it("fetches only the resident's messages: our replies after them do not push unread ones out of the window", async () => {
    // Replies already sent (without marking the chat seen, e.g. after a failed message) sit after
    // the resident's unread messages; the library counts them toward `limit` unless told fromMe: false.
    const fake = new FakeClient();
    const ours = (body: string, second: number) => said(RIMA, body, second, { fromMe: true, id: { _serialized: `true_${RIMA}_3EB0${second}`, fromMe: true, remote: RIMA, id: `3EB0${second}` } });
    fake.chats = [
      {
        id: RIMA,
        history: [ours("Thank you, what street?", 2), ours("Thank you, a photo please?", 4), ours("Your report is number 12", 6)],
        unread: [said(RIMA, "hello", 1), said(RIMA, "the pothole is back", 3), said(RIMA, "Main Road", 5)],
      },
    ];
    const handled: string[] = [];
    const counts = await catchUp(fake, async (m) => void handled.push(m.body), { logger: recordingLogger().logger });
    expect(handled).toEqual(["hello", "the pothole is back", "Main Road"]);
    expect(counts).toEqual({ chats: 1, messages: 3, failed: 0, tooOld: 0 });
    expect(fake.chats[0]?.seen).toBe(true);
  });

  it("leaves a chat unread when one of its messages fails, still answers the rest, and takes it again next time", async () => {
    const fake = new FakeClient();
    fake.chats = [
      { id: RIMA, unread: [said(RIMA, "hello", 1), said(RIMA, "boom", 2), said(RIMA, "1", 3)] },
      { id: SAMI, unread: [said(SAMI, "street light out", 1)] },
    ];
    const handled: string[] = [];
    let failing = true;
    const handle = async (m: WwebMessage) => {
      if (m.body === "boom" && failing) throw new Error("database is locked");
      handled.push(m.body);
    };
    const { logger, lines } = recordingLogger();
    expect(await catchUp(fake, handle, { logger })).toEqual({ chats: 2, messages: 3, failed: 1, tooOld: 0 });
    expect(handled).toEqual(expect.arrayContaining(["hello", "1", "street light out"]));
    expect(fake.chats.find((c) => c.id === RIMA)?.seen).toBeUndefined();
    expect(fake.chats.find((c) => c.id === SAMI)?.seen).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, chat: "961•••••456@c.us" }));
    expect(JSON.stringify(lines)).not.toContain("71123456");

    // The next catch-up (the inbox drops what it already handled) gets it through.
    failing = false;
    handled.length = 0;
    expect(await catchUp(fake, handle, { logger })).toEqual({ chats: 1, messages: 3, failed: 0, tooOld: 0 });
    expect(handled).toEqual(["hello", "boom", "1"]);
    expect(fake.chats.find((c) => c.id === RIMA)?.seen).toBe(true);
  });

  it("never rejects: a chat list or a chat that cannot be read is logged and counted", async () => {
    const { logger, lines } = recordingLogger();
    const broken = { getChats: async () => Promise.reject(new Error("Protocol error: Target closed")) };
    expect(await catchUp(broken, async () => undefined, { logger })).toEqual({ chats: 0, messages: 0, failed: 0, tooOld: 0 });
    expect(lines).toContainEqual(expect.objectContaining({ level: 40 }));

    const fake = new FakeClient();
    fake.chats = [{ id: SAMI, unread: [said(SAMI, "hi", 1)] }];
    const chats = await fake.getChats();
    const unreadable = { ...chats[0]!, id: { _serialized: RIMA }, fetchMessages: async () => Promise.reject(new Error("detached frame")) };
    const handled: string[] = [];
    const counts = await catchUp({ getChats: async () => [unreadable, ...chats] }, async (m) => void handled.push(m.body), { logger });
    expect(counts).toEqual({ chats: 2, messages: 1, failed: 1, tooOld: 0 });
    expect(handled).toEqual(["hi"]);
  });

  it("works on a few chats at a time, each one message at a time", async () => {
    const fake = new FakeClient();
    fake.chats = Array.from({ length: 6 }, (_, i) => {
      const id = `9617000000${i}@c.us`;
      return { id, unread: [said(id, "a", 1), said(id, "b", 2)] };
    });
    let running = 0;
    let most = 0;
    const perChat = new Map<string, number>();
    const counts = await catchUp(
      fake,
      async (m) => {
        running++;
        perChat.set(m.from, (perChat.get(m.from) ?? 0) + 1);
        most = Math.max(most, running);
        expect(perChat.get(m.from)).toBe(1);
        await tick();
        perChat.set(m.from, (perChat.get(m.from) ?? 0) - 1);
        running--;
      },
      { logger: recordingLogger().logger, concurrency: 3 },
    );
    expect(counts).toEqual({ chats: 6, messages: 12, failed: 0, tooOld: 0 });
    expect(most).toBe(3);
  });

  it("tells who asked which chats were marked seen", async () => {
    const fake = new FakeClient();
    fake.chats = [{ id: RIMA, unread: [said(RIMA, "hi", 1)] }];
    const seen: string[] = [];
    await catchUp(fake, async () => undefined, { logger: recordingLogger().logger, onSeen: (chatId) => seen.push(chatId) });
    expect(seen).toEqual([RIMA]);
  });
});

/** Lanes over a fake client, with a handler the test controls. */
function lanesOver(fake: FakeClient, handler: (m: WwebMessage) => Promise<void>, remember?: number) {
  const { logger, lines } = recordingLogger();
  const lanes = new ChatLanes({
    handle: handler,
    markSeen: async (chatId) => void (await (await fake.getChatById(chatId)).sendSeen()),
    logger,
    ...(remember !== undefined ? { remember } : {}),
  });
  return { lanes, lines };
}

describe("live messages", () => {
  it("of one chat are handled one after the other, while another chat goes on", async () => {
    const fake = new FakeClient();
    fake.chats = [
      { id: RIMA, unread: [] },
      { id: SAMI, unread: [] },
    ];
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const { lanes } = lanesOver(fake, async (m) => {
      started.push(m.body);
      const gate = deferred();
      gates.set(m.body, gate);
      await gate.promise;
    });
    const first = lanes.handle(said(RIMA, "hello", 1));
    const second = lanes.handle(said(RIMA, "1", 2));
    const other = lanes.handle(said(SAMI, "hi", 1));
    await tick();
    expect(started).toEqual(["hello", "hi"]);
    gates.get("hello")?.resolve();
    await first;
    await tick();
    expect(started).toEqual(["hello", "hi", "1"]);
    gates.get("1")?.resolve();
    gates.get("hi")?.resolve();
    await Promise.all([second, other]);
  });

  it("mark the chat seen once handled, not while another of its messages waits", async () => {
    const fake = new FakeClient();
    fake.chats = [{ id: RIMA, unread: [] }];
    const seenWhileHandling: Array<boolean | undefined> = [];
    const { lanes } = lanesOver(fake, async () => {
      seenWhileHandling.push(fake.chats[0]?.seen);
      await tick();
    });
    await Promise.all([lanes.handle(said(RIMA, "hello", 1)), lanes.handle(said(RIMA, "1", 2))]);
    expect(seenWhileHandling).toEqual([undefined, undefined]);
    expect(fake.chats[0]?.seen).toBe(true);
  });

  it("leave the chat unread after a failure, even when a later message succeeds, until a catch-up settles it", async () => {
    const fake = new FakeClient();
    fake.chats = [{ id: RIMA, unread: [] }];
    const { lanes, lines } = lanesOver(fake, async (m) => {
      if (m.body === "boom") throw new Error("database is locked");
    });
    await expect(lanes.handle(said(RIMA, "boom", 1))).resolves.toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: "WhatsApp Web message could not be handled: the chat stays unread" }));
    await lanes.handle(said(RIMA, "1", 2));
    expect(fake.chats[0]?.seen).toBeUndefined();

    lanes.settled(RIMA);
    await lanes.handle(said(RIMA, "2", 3));
    expect(fake.chats[0]?.seen).toBe(true);
  });

  it("handle a message delivered twice once: while it runs, and after", async () => {
    const fake = new FakeClient();
    const handled: string[] = [];
    const { lanes } = lanesOver(fake, async (m) => {
      handled.push(m.body);
      await tick();
    });
    const message = said(RIMA, "hello", 1);
    await Promise.all([lanes.handle(message), lanes.handle(message)]);
    await lanes.handle(message);
    expect(handled).toEqual(["hello"]);
  });

  it("remember only the last few handled ids", async () => {
    const fake = new FakeClient();
    const handled: string[] = [];
    const { lanes } = lanesOver(fake, async (m) => void handled.push(m.body), 2);
    const first = said(RIMA, "first", 1);
    for (const m of [first, said(RIMA, "b", 2), said(RIMA, "c", 3), first]) await lanes.handle(m);
    expect(handled).toEqual(["first", "b", "c", "first"]);
  });

  it("try a failed message again when it comes again", async () => {
    const fake = new FakeClient();
    let attempts = 0;
    const { lanes } = lanesOver(fake, async () => {
      if (++attempts === 1) throw new Error("database is locked");
    });
    const message = said(RIMA, "hello", 1);
    await lanes.handle(message);
    await lanes.handle(message);
    expect(attempts).toBe(2);
  });

  it("never reject, even when marking seen fails", async () => {
    const { logger, lines } = recordingLogger();
    const lanes = new ChatLanes({ handle: async () => undefined, markSeen: async () => Promise.reject(new Error("Session closed")), logger });
    await expect(lanes.handle(said(RIMA, "hello", 1))).resolves.toBeUndefined();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "WhatsApp Web chat could not be marked seen" }));
  });

  it("and a catch-up share the chat's turn: an unread message is never overtaken by a newer live one", async () => {
    const fake = new FakeClient();
    const older = said(RIMA, "hello", 1);
    fake.chats = [{ id: RIMA, unread: [older] }];
    const handled: string[] = [];
    const gate = deferred();
    const { lanes } = lanesOver(fake, async (m) => {
      if (m === older) await gate.promise;
      handled.push(m.body);
    });
    const catchingUp = catchUp(fake, (m) => lanes.run(m), { logger: recordingLogger().logger, onSeen: (chatId) => lanes.settled(chatId) });
    await tick();
    const live = lanes.handle(said(RIMA, "1", 2));
    // The same message arriving live while the catch-up has it is not handled twice.
    const again = lanes.handle(older);
    gate.resolve();
    expect(await catchingUp).toEqual({ chats: 1, messages: 1, failed: 0, tooOld: 0 });
    await Promise.all([live, again]);
    expect(handled).toEqual(["hello", "1"]);
  });

  it("through a catch-up, a failure rejects so the catch-up leaves the chat unread", async () => {
    const fake = new FakeClient();
    fake.chats = [{ id: RIMA, unread: [said(RIMA, "boom", 1)] }];
    const { lanes } = lanesOver(fake, async () => Promise.reject(new Error("database is locked")));
    expect(await catchUp(fake, (m) => lanes.run(m), { logger: recordingLogger().logger })).toEqual({ chats: 1, messages: 0, failed: 1, tooOld: 0 });
    expect(fake.chats[0]?.seen).toBeUndefined();
  });

  it("can be waited for at shutdown", async () => {
    const fake = new FakeClient();
    const gate = deferred();
    let done = false;
    const { lanes } = lanesOver(fake, async () => {
      await gate.promise;
      done = true;
    });
    void lanes.handle(said(RIMA, "hello", 1));
    const idle = lanes.idle();
    gate.resolve();
    await idle;
    expect(done).toBe(true);
  });
});

describe("catch-up after a long silence", () => {
  const now = Math.floor(Date.now() / 1000);
  const notBefore = new Date((now - 3 * 86400) * 1000);
  const longSilence = () => {
    const client = new FakeClient();
    const old = wwebMessage({ from: RIMA, body: "the bin was not collected", timestamp: now - 5 * 86400 });
    const fresh = wwebMessage({ from: RIMA, body: "still not collected", timestamp: now - 60 });
    client.chats = [{ id: RIMA, unread: [old, fresh] }];
    return client;
  };

  it("leaves unread messages older than notBefore to staff: no bot answer days late, and the chat stays unread on the phone", async () => {
    const client = longSilence();
    const handled: string[] = [];
    const seen: string[] = [];
    const { logger, lines } = recordingLogger();
    const counts = await catchUp(client, async (m) => void handled.push(m.body), { logger, notBefore, onSeen: (chatId) => seen.push(chatId) });
    expect(handled).toEqual(["still not collected"]);
    expect(counts).toEqual({ chats: 1, messages: 1, failed: 0, tooOld: 1 });
    expect(client.chats[0]?.seen).toBeUndefined();
    expect(seen).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, chat: "961•••••456@c.us", messages: 1, msg: expect.stringContaining("too old") }));
  });

  it("on a quiet sweep, the same chat is only a debug line, still counted", async () => {
    const client = longSilence();
    const { logger, lines } = recordingLogger();
    const counts = await catchUp(client, async () => undefined, { logger, notBefore, quiet: true });
    expect(counts).toEqual({ chats: 1, messages: 1, failed: 0, tooOld: 1 });
    expect(client.chats[0]?.seen).toBeUndefined();
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 20, messages: 1, msg: expect.stringContaining("too old") }));
  });

  it("on a quiet sweep that found nothing to do but old messages, says it done only at debug level", async () => {
    const client = new FakeClient();
    client.chats = [{ id: RIMA, unread: [wwebMessage({ from: RIMA, body: "the bin was not collected", timestamp: now - 5 * 86400 })] }];
    const { logger, lines } = recordingLogger();
    const counts = await catchUp(client, async () => undefined, { logger, notBefore, quiet: true });
    expect(counts).toEqual({ chats: 1, messages: 0, failed: 0, tooOld: 1 });
    expect(client.chats[0]?.seen).toBeUndefined();
    expect(lines.filter((l) => (l.level as number) >= 30)).toEqual([]);
  });

  it("a chat left unread with too old messages and more than `maxPerChat` is not warned about on a quiet sweep", async () => {
    const client = new FakeClient();
    const old = Array.from({ length: 5 }, (_, i) => wwebMessage({ from: RIMA, body: `old ${i}`, timestamp: now - 5 * 86400 + i }));
    client.chats = [{ id: RIMA, unread: [...old, wwebMessage({ from: RIMA, body: "hello?", timestamp: now - 60 })] }];
    const { logger, lines } = recordingLogger();
    const counts = await catchUp(client, async () => undefined, { logger, notBefore, quiet: true, maxPerChat: 3 });
    expect(counts).toEqual({ chats: 1, messages: 1, failed: 0, tooOld: 2 });
    expect(client.chats[0]?.seen).toBeUndefined();
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 20, leftOut: 3 }));
  });
});
