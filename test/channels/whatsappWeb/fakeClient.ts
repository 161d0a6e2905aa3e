import { EventEmitter } from "node:events";
import type { WhatsAppWebClient, WwebChat, WwebMedia, WwebMessage, WwebSent } from "../../../src/channels/whatsappWeb/client.js";

/**
 * A stand-in for whatsapp-web.js's `Client`: an EventEmitter implementing our `WhatsAppWebClient`.
 * Tests drive it like WhatsApp would (`fake.showQr()`, `fake.becomeReady()`, `fake.receive(msg)`,
 * `fake.ack(id, 3)`, `fake.disconnect("LOGOUT")`) and read what the channel did (`fake.sent`).
 */
export class FakeClient extends EventEmitter implements WhatsAppWebClient {
  /** Every sendMessage call, in order: what the phone would have sent. */
  readonly sent: Array<{ chatId: string; content: string; id: string }> = [];
  /** LID ("…@lid") → phone ("961…@c.us"); an unknown one resolves with an empty `pn`. */
  readonly lids = new Map<string, string>();
  /**
   * Chats: `unread` the messages waiting (catch-up), `history` what is already in the chat (our sent
   * messages are added to it). Like the library, sending marks the chat seen unless `sendSeen: false`.
   */
  chats: FakeChat[] = [];
  /**
   * How `initialize` behaves: "ready" (emits ready at once), "qr" (emits a QR), "manual" (resolves,
   * emits nothing), "pending" (Chromium still starting: settles when the test calls `finishStart`),
   * or an Error to reject with.
   */
  onInitialize: "ready" | "qr" | "manual" | "pending" | Error = "ready";
  /** Settles a "pending" initialize. */
  finishStart: () => void = () => undefined;
  /** Slows getChats down (a real account's chat list takes a while). */
  getChatsDelayMs = 0;
  /** How the next sendMessage behaves: "ok", an Error to throw, or "hang" (never settles). */
  sendBehaviour: Array<"ok" | Error | "hang"> = [];
  initialized = 0;
  destroyed = 0;
  loggedOut = 0;
  info: WhatsAppWebClient["info"] = undefined;
  private nextId = 1;
  linkedNumber = "96181000000";

  async initialize(): Promise<void> {
    this.initialized++;
    const behaviour = this.onInitialize;
    if (behaviour instanceof Error) throw behaviour;
    if (behaviour === "pending") await new Promise<void>((resolve) => (this.finishStart = resolve));
    if (behaviour === "qr") this.showQr();
    if (behaviour === "ready") this.becomeReady();
  }

  async destroy(): Promise<void> {
    this.destroyed++;
  }

  async logout(): Promise<void> {
    this.loggedOut++;
  }

  showQr(qr = `2@fake-qr-${this.nextId++}`): void {
    this.emit("qr", qr);
  }

  becomeReady(): void {
    this.info = { wid: { user: this.linkedNumber, _serialized: `${this.linkedNumber}@c.us` }, pushname: "Baladiya" };
    this.emit("authenticated");
    this.emit("ready");
  }

  disconnect(reason = "NAVIGATION"): void {
    this.emit("disconnected", reason);
  }

  receive(message: WwebMessage): void {
    this.emit("message", message);
  }

  ack(id: string, ack: number): void {
    this.emit("message_ack", { id: { _serialized: id } }, ack);
  }

  async sendMessage(chatId: string, content: string, options: { sendSeen?: boolean } = {}): Promise<WwebSent> {
    const behaviour = this.sendBehaviour.shift() ?? "ok";
    if (behaviour === "hang") return new Promise<WwebSent>(() => undefined);
    if (behaviour instanceof Error) throw behaviour;
    const id = `true_${chatId}_3EB0${String(this.nextId++).padStart(16, "0")}`;
    this.sent.push({ chatId, content, id });
    let chat = this.chats.find((c) => c.id === chatId);
    if (!chat) this.chats.push((chat = { id: chatId, unread: [] }));
    // whatsapp-web.js marks the chat seen before sending, unless told not to.
    if (options.sendSeen !== false && chat.unread.length > 0) {
      chat.seen = true;
      this.markedSeenBySend.push(chatId);
    }
    const timestamp = Math.floor(Date.now() / 1000);
    (chat.history ??= []).push(wwebMessage({ from: chatId, fromMe: true, body: content, timestamp, id: { _serialized: id, fromMe: true, remote: chatId, id: id.split("_").pop()! } }));
    return { id: { _serialized: id }, ack: 0, timestamp };
  }

  /** Chats a send marked seen (what `sendSeen: false` prevents). */
  readonly markedSeenBySend: string[] = [];

  async getContactLidAndPhone(userIds: string[]): Promise<Array<{ lid: string; pn: string }>> {
    return userIds.map((id) => (id.endsWith("@lid") ? { lid: id, pn: this.lids.get(id) ?? "" } : { lid: [...this.lids].find(([, pn]) => pn === id)?.[0] ?? "", pn: id }));
  }

  async getChats(): Promise<WwebChat[]> {
    if (this.getChatsDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.getChatsDelayMs));
    return this.chats.map((c) => this.chatOf(c));
  }

  async getChatById(chatId: string): Promise<WwebChat> {
    const chat = this.chats.find((c) => c.id === chatId) ?? { id: chatId, unread: [] };
    return this.chatOf(chat);
  }

  private chatOf(chat: FakeChat): WwebChat {
    return {
      id: { _serialized: chat.id },
      isGroup: chat.isGroup ?? chat.id.endsWith("@g.us"),
      unreadCount: chat.seen ? 0 : chat.unread.filter((m) => !m.fromMe).length,
      // Oldest first, like the library; `fromMe` filters before the limit counts back from the newest.
      fetchMessages: async ({ limit, fromMe }) => {
        const all = [...(chat.history ?? []), ...chat.unread].filter((m) => fromMe === undefined || m.fromMe === fromMe);
        const ordered = all.map((m, i) => ({ m, i })).sort((a, b) => a.m.timestamp - b.m.timestamp || a.i - b.i).map(({ m }) => m);
        return ordered.slice(-limit);
      },
      sendSeen: async () => {
        chat.seen = true;
        return true;
      },
    };
  }
}

export interface FakeChat {
  id: string;
  unread: WwebMessage[];
  history?: WwebMessage[];
  isGroup?: boolean;
  seen?: boolean;
}

let counter = 0;

/** A message as WhatsApp would deliver it; `from` defaults to a Lebanese mobile. */
export function wwebMessage(fields: Partial<Omit<WwebMessage, "downloadMedia">> & { media?: WwebMedia | "gone" | Error } = {}): WwebMessage {
  const from = fields.from ?? "96171123456@c.us";
  const serial = fields.id?._serialized ?? `false_${from}_3A${String(++counter).padStart(18, "0")}`;
  const { media, ...rest } = fields;
  return {
    id: { _serialized: serial, fromMe: false, remote: from, id: serial.split("_").pop() ?? serial },
    from,
    to: "96181000000@c.us",
    fromMe: false,
    body: "",
    type: "chat",
    timestamp: Math.floor(Date.now() / 1000),
    hasMedia: media !== undefined,
    isStatus: false,
    broadcast: false,
    ...rest,
    async downloadMedia() {
      if (media instanceof Error) throw media;
      if (media === "gone") return undefined;
      return media as WwebMedia;
    },
  };
}

/** A small PNG (1×1), base64, for photo messages. */
export const PNG_1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
