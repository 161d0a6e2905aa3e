import type { Logger } from "pino";
import { loggableError } from "../../lib/logger.js";
import { maskPhone } from "../../lib/maskPhone.js";
import { isPersonalChat, type WhatsAppWebClient, type WwebChat, type WwebMessage } from "./client.js";

export interface CatchUpOptions {
  /**
   * Unread messages taken per chat at most, the newest ones (default 50). The older ones are left
   * out, not handled: logged with how many.
   */
  maxPerChat?: number;
  /** Chats caught up at the same time (default 4): each is a round trip to the browser per message. */
  concurrency?: number;
  logger: Logger;
  /**
   * Unread messages older than this are not handed over (the bot does not answer days late), and
   * their chat is not marked seen: staff still see it unread on the phone.
   */
  notBefore?: Date;
  /**
   * For periodic sweeps: what is said about a chat left unread to staff (messages too old, and those
   * left out beyond `maxPerChat` while the chat stays unread) is logged at debug level, not warn, as
   * every sweep finds that chat again; so is "catch-up done" when nothing was handled or failed.
   * Messages left out of a chat that is then marked seen are still a warning.
   */
  quiet?: boolean;
  /** Told of each chat marked seen, e.g. `ChatLanes.settled`, so live messages may mark it seen again. */
  onSeen?: (chatId: string) => void;
}

export interface CatchUpCounts {
  /** Personal chats that had unread messages. */
  chats: number;
  /** Messages handed over without error. */
  messages: number;
  /** Messages whose handling failed, and chats whose messages could not be read. */
  failed: number;
  /** Unread messages older than `notBefore`: not handed over, their chat left unread. */
  tooOld: number;
}

/**
 * Hands over what residents wrote while we were not connected (after a restart or a reconnection):
 * the unread messages of every person's chat, oldest first, one at a time per chat (a few chats at
 * a time). WhatsApp's "unread" is our to-do list: a chat is marked seen only once every one of its
 * messages was handled, so a failure leaves it unread and it is taken again at the next catch-up (the
 * inbox drops what it has already handled). After a failure the chat's later messages are still
 * handed over, so the resident is answered. A chat with messages older than `notBefore` is left
 * unread too, for staff: it is found again at every catch-up (pass `quiet` on periodic sweeps). Only
 * the person's messages are fetched: our replies, which may follow them, would take up the window.
 * Never rejects: failures are logged and counted.
 */
export async function catchUp(
  client: Pick<WhatsAppWebClient, "getChats">,
  handle: (message: WwebMessage) => Promise<void>,
  options: CatchUpOptions,
): Promise<CatchUpCounts> {
  const counts: CatchUpCounts = { chats: 0, messages: 0, failed: 0, tooOld: 0 };
  const log = options.logger;
  let chats: WwebChat[];
  try {
    chats = await client.getChats();
  } catch (error) {
    log.warn({ err: loggableError(error) }, "WhatsApp Web catch-up: the chats could not be listed");
    return counts;
  }
  const unread = chats.filter((chat) => isPersonalChat(chat.id._serialized) && !chat.isGroup && chat.unreadCount > 0);
  counts.chats = unread.length;
  const maxPerChat = Math.max(1, options.maxPerChat ?? 50);
  await eachLimited(unread, Math.max(1, options.concurrency ?? 4), async (chat) => {
    const chatId = chat.id._serialized;
    let fetched: WwebMessage[];
    try {
      // fromMe: false before the limit counts back (the library counts every message toward it).
      fetched = await chat.fetchMessages({ limit: Math.min(chat.unreadCount, maxPerChat), fromMe: false });
    } catch (error) {
      counts.failed++;
      log.warn({ chat: maskChat(chatId), err: loggableError(error) }, "WhatsApp Web catch-up: a chat's messages could not be read");
      return;
    }
    let failed = 0;
    // Left to people: a message older than that (unread on the phone before the town linked it, or
    // from a long outage) gets no bot answer days later.
    const notBefore = options.notBefore?.getTime() ?? Number.NEGATIVE_INFINITY;
    const theirs = fetched.filter((m) => !m.fromMe);
    const recent = theirs.filter((m) => !(Number.isFinite(m.timestamp) && m.timestamp > 0 && m.timestamp * 1000 < notBefore));
    const tooOld = theirs.length - recent.length;
    if (tooOld > 0) {
      counts.tooOld += tooOld;
      log[options.quiet ? "debug" : "warn"]({ chat: maskChat(chatId), messages: tooOld }, "WhatsApp Web catch-up: unread messages too old for the bot to answer, left unread to staff on the phone");
    }
    for (const message of inOrder(recent)) {
      try {
        await handle(message);
        counts.messages++;
      } catch (error) {
        failed++;
        log.error({ chat: maskChat(chatId), messageId: message.id.id, err: loggableError(error) }, "WhatsApp Web catch-up: a message could not be handled");
      }
    }
    counts.failed += failed;
    // Unread beyond `maxPerChat` (older than those fetched): never handed over.
    const leftOut = Math.max(0, chat.unreadCount - maxPerChat);
    const staysUnread = failed > 0 || tooOld > 0;
    if (leftOut > 0) {
      const fields = { chat: maskChat(chatId), leftOut, maxPerChat };
      if (!staysUnread) log.warn(fields, "WhatsApp Web catch-up: more unread messages than are taken per chat; the older ones were left out and the chat is marked seen");
      else log[options.quiet ? "debug" : "warn"](fields, "WhatsApp Web catch-up: more unread messages than are taken per chat; the older ones were left out, the chat stays unread");
    }
    // Seeing a chat sees all of it: not after a failure (taken again next time), nor when some
    // messages were too old for the bot (staff must still see them unread on the phone).
    if (staysUnread) return;
    try {
      await chat.sendSeen();
      options.onSeen?.(chatId);
    } catch (error) {
      log.warn({ chat: maskChat(chatId), err: loggableError(error) }, "WhatsApp Web catch-up: a chat could not be marked seen");
    }
  });
  if (counts.chats > 0) log[options.quiet && counts.messages === 0 && counts.failed === 0 ? "debug" : "info"](counts, "WhatsApp Web catch-up done");
  return counts;
}

export interface ChatLanesOptions {
  /** Hands one message over (toInbound, then the inbox); rejects when it could not be handled. */
  handle(message: WwebMessage): Promise<void>;
  /**
   * Marks a chat seen on the phone (`(await client.getChatById(chatId)).sendSeen()`): a function, as
   * the client is a new one after each reconnection.
   */
  markSeen(chatId: string): Promise<void>;
  logger: Logger;
  /** Message ids remembered as handled, so a repeated event is skipped (default 1000). */
  remember?: number;
}

/**
 * Live `message` events, one chat at a time: a message is handed over once the previous one of the
 * same chat is done, while different chats go on in parallel. The chat is marked seen after a
 * successful message when nothing else of the chat is waiting; after a failure it is left unread
 * (even when later messages succeed: seeing a chat sees all of it) until a catch-up has taken it
 * again and says so through `settled`. An id being handled, or handled lately, is not handled again.
 * `handle` never rejects: failures are logged.
 */
export class ChatLanes {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, number>();
  /** Ids queued or running, with their outcome: a second copy waits for the first. */
  readonly #active = new Map<string, Promise<void>>();
  readonly #recent = new Set<string>();
  readonly #unsettled = new Set<string>();
  readonly #remember: number;

  constructor(private readonly options: ChatLanesOptions) {
    this.#remember = Math.max(1, options.remember ?? 1000);
  }

  /** A live message: handled in its chat's turn, then the chat marked seen. Resolves when done. */
  handle(message: WwebMessage): Promise<void> {
    return this.#enqueue(message, true).catch(() => undefined);
  }

  /**
   * A message of a catch-up, in its chat's turn so it never overtakes a live one: rejects when it
   * fails and leaves marking the chat seen to the caller:
   * `catchUp(client, (m) => lanes.run(m), { logger, onSeen: (chatId) => lanes.settled(chatId) })`.
   */
  run(message: WwebMessage): Promise<void> {
    return this.#enqueue(message, false);
  }

  /** The chat was marked seen after all its messages were handled: live messages may mark it seen again. */
  settled(chatId: string): void {
    this.#unsettled.delete(chatId);
  }

  /** Resolves once no message is waiting or running (at shutdown, before closing the client). */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  #enqueue(message: WwebMessage, markSeen: boolean): Promise<void> {
    const id = message.id._serialized;
    const inFlight = this.#active.get(id);
    if (inFlight || this.#recent.has(id)) {
      this.options.logger.debug({ messageId: message.id.id }, "WhatsApp Web message already taken: skipped");
      return inFlight ?? Promise.resolve();
    }
    const chatId = message.from;
    this.#waiting.set(chatId, (this.#waiting.get(chatId) ?? 0) + 1);
    const task = async () => {
      try {
        await this.options.handle(message);
      } catch (error) {
        this.#unsettled.add(chatId);
        this.options.logger.error({ chat: maskChat(chatId), messageId: message.id.id, err: loggableError(error) }, "WhatsApp Web message could not be handled: the chat stays unread");
        throw error;
      } finally {
        this.#active.delete(id);
        this.#waiting.set(chatId, (this.#waiting.get(chatId) ?? 1) - 1);
      }
      this.#remembered(id);
      // Seeing a chat sees all of it: not while another of its messages waits its turn, nor after a failure.
      if (markSeen && !this.#unsettled.has(chatId) && (this.#waiting.get(chatId) ?? 0) === 0) await this.#markSeen(chatId);
    };
    const previous = this.#tails.get(chatId) ?? Promise.resolve();
    const result = previous.then(task);
    this.#active.set(id, result);
    const tail = result.catch(() => undefined);
    this.#tails.set(chatId, tail);
    void tail.then(() => {
      if (this.#tails.get(chatId) === tail) {
        this.#tails.delete(chatId);
        this.#waiting.delete(chatId);
      }
    });
    return result;
  }

  #remembered(id: string) {
    this.#recent.add(id);
    if (this.#recent.size > this.#remember) {
      const oldest = this.#recent.values().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }

  async #markSeen(chatId: string) {
    try {
      await this.options.markSeen(chatId);
    } catch (error) {
      this.options.logger.warn({ chat: maskChat(chatId), err: loggableError(error) }, "WhatsApp Web chat could not be marked seen");
    }
  }
}

/** Messages oldest first. Ties keep WhatsApp's order: ids are random, sorting by them would shuffle a burst sent within one second. */
function inOrder(messages: WwebMessage[]): WwebMessage[] {
  const seen = new Set<string>();
  const unique = messages.filter((m) => !seen.has(m.id._serialized) && seen.add(m.id._serialized));
  const time = (m: WwebMessage) => (Number.isFinite(m.timestamp) ? m.timestamp : 0);
  // Array.prototype.sort is stable.
  return unique.sort((a, b) => time(a) - time(b));
}

/** Runs `work` on every item, at most `limit` at a time. `work` must not reject. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  // One iterator shared by the workers: each item is taken once.
  const queue = items.values();
  const worker = async () => {
    for (const item of queue) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A chat id for logs: "96171123456@c.us" → "961•••••456@c.us". */
function maskChat(chatId: string): string {
  const at = chatId.lastIndexOf("@");
  return at < 0 ? maskPhone(chatId) : `${maskPhone(chatId.slice(0, at))}${chatId.slice(at)}`;
}
