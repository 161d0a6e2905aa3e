/**
 * The small part of whatsapp-web.js's `Client` this channel uses, in our own words (shaped from the
 * library's index.d.ts, v1.34). Only `whatsappWebLibrary.ts` touches the library itself; everything
 * else — and every test, with `test/channels/whatsappWeb/fakeClient.ts` — sees this interface.
 */

/** A message id as the library gives it: `_serialized` is "true|false_<chat>_<id>", unique per message. */
export interface WwebMessageId {
  _serialized: string;
  fromMe: boolean;
  remote: string;
  id: string;
}

/** What `downloadMedia()` resolves to: base64 data. Undefined when WhatsApp no longer has the file. */
export interface WwebMedia {
  mimetype: string;
  /** Base64. */
  data: string;
  filename?: string | null;
  filesize?: number | null;
}

export interface WwebLocation {
  latitude: number | string;
  longitude: number | string;
  name?: string;
  address?: string;
  description?: string;
  url?: string;
}

/** One message as the `message` event (or `chat.fetchMessages`) hands it over. */
export interface WwebMessage {
  id: WwebMessageId;
  /** The chat it came from: "9613123456@c.us" (a phone), "123456789012345@lid" (a hidden number), "…@g.us" (a group), "status@broadcast", "…@newsletter". */
  from: string;
  to: string;
  /** In a group: who wrote it. */
  author?: string | undefined;
  fromMe: boolean;
  body: string;
  /** "chat", "image", "document", "ptt", "audio", "video", "location", "sticker", "vcard", "call_log", "e2e_notification", … */
  type: string;
  /** Seconds since the epoch (WhatsApp's clock). */
  timestamp: number;
  hasMedia: boolean;
  isStatus: boolean;
  /** Our messages' delivery state (ACK): -1 when WhatsApp refused it. */
  ack?: number | undefined;
  broadcast?: boolean | undefined;
  location?: WwebLocation | undefined;
  /**
   * The raw object: `notifyName` the sender's WhatsApp profile name; `size` and `mimetype` the
   * media's, known before it is downloaded.
   */
  _data?: { notifyName?: string | undefined; size?: number | undefined; mimetype?: string | undefined } | undefined;
  downloadMedia(): Promise<WwebMedia | undefined>;
}

/** A chat as `getChats()` lists it (for catching up after a restart). */
export interface WwebChat {
  id: { _serialized: string };
  isGroup: boolean;
  unreadCount: number;
  /** Oldest first; `limit` counts back from the newest; `fromMe` keeps only ours (true) or only theirs (false). */
  fetchMessages(options: { limit: number; fromMe?: boolean }): Promise<WwebMessage[]>;
  sendSeen(): Promise<boolean | void>;
}

/** What `sendMessage` resolves to: the message as sent. */
export interface WwebSent {
  id: { _serialized: string };
  ack?: number;
  timestamp?: number;
}

/** Delivery acknowledgements (`message_ack`), as the library numbers them. */
export const ACK = { ERROR: -1, PENDING: 0, SERVER: 1, DEVICE: 2, READ: 3, PLAYED: 4 } as const;

export interface WhatsAppWebClient {
  initialize(): Promise<void>;
  /** Closes the browser (the session stays linked: the next start resumes it). */
  destroy(): Promise<void>;
  /** Unlinks the device from the phone and deletes the session. */
  logout(): Promise<void>;
  on(event: "qr", listener: (qr: string) => void): this;
  on(event: "authenticated", listener: () => void): this;
  on(event: "auth_failure", listener: (message: string) => void): this;
  on(event: "ready", listener: () => void): this;
  on(event: "message", listener: (message: WwebMessage) => void): this;
  on(event: "message_ack", listener: (message: { id: { _serialized: string }; to?: string }, ack: number) => void): this;
  /** `reason`: "LOGOUT" when the phone unlinked us (or a WAState: "CONFLICT", "UNPAIRED", …). */
  on(event: "disconnected", listener: (reason: string) => void): this;
  on(event: "change_state", listener: (state: string) => void): this;
  removeAllListeners(event?: string): this;
  /** Resolves undefined when WhatsApp Web has no such chat. Marks the chat seen first unless `sendSeen: false`. */
  sendMessage(chatId: string, content: string, options?: { linkPreview?: boolean; sendSeen?: boolean }): Promise<WwebSent | undefined>;
  /** Phone numbers ("961…@c.us") of LIDs and the LIDs of numbers; entries it cannot resolve come back with an empty field. */
  getContactLidAndPhone(userIds: string[]): Promise<Array<{ lid: string; pn: string }>>;
  getChats(): Promise<WwebChat[]>;
  getChatById(chatId: string): Promise<WwebChat>;
  /** The linked account once ready ("961…@c.us" in `wid._serialized`). */
  info?: { wid?: { user?: string; _serialized?: string } | undefined; pushname?: string | undefined } | undefined;
}

/** Chats that are a person: a phone ("…@c.us") or a hidden number ("…@lid"). Groups, status, broadcasts and channels are not. */
export const isPersonalChat = (chatId: string) => /^\d{4,20}@(c\.us|lid)$/.test(chatId);

/**
 * The resident's address as the outbox stores it ("whatsapp:+9613123456", or "whatsapp:lid:123…"
 * for a sender WhatsApp did not give a number for) → the chat to send to.
 */
export function chatIdOf(address: string): string | null {
  const bare = address.replace(/^whatsapp:/, "");
  const lid = /^lid:(\d{4,20})$/.exec(bare);
  if (lid) return `${lid[1]}@lid`;
  const phone = /^\+(\d{6,15})$/.exec(bare);
  return phone ? `${phone[1]}@c.us` : null;
}
