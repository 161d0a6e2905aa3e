import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { WwebMedia } from "../../../src/channels/whatsappWeb/client.js";
import { toInbound, type InboundDeps } from "../../../src/channels/whatsappWeb/inbound.js";
import { mediaKindOf } from "../../../src/channels/whatsappWeb/mediaStore.js";
import { localMediaKey, type MediaStore } from "../../../src/channels/whatsappWeb/mediaStore.js";
import { PNG_1x1, wwebMessage } from "./fakeClient.js";

/** An in-memory media store that remembers what it was given. */
function memoryStore(): MediaStore & { files: Map<string, { bytes: Buffer; contentType: string }> } {
  const files = new Map<string, { bytes: Buffer; contentType: string }>();
  return {
    files,
    async put(bytes, contentType) {
      const key = `${String(files.size + 1).padStart(64, "0")}.bin`;
      files.set(key, { bytes, contentType });
      return key;
    },
    async get(key) {
      return files.get(key) ?? null;
    },
  };
}

/** A logger whose lines the test can read. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const phoneOf = async (chatId: string) => ({ from: `+${chatId.split("@")[0]}`, verifiedPhone: true });

function world(overrides: Partial<InboundDeps> = {}) {
  const media = memoryStore();
  const { logger, lines } = recordingLogger();
  const deps: InboundDeps = { resolveSender: phoneOf, media, logger, clock: () => new Date("2025-03-01T08:00:00Z"), ...overrides };
  return { deps, media, lines };
}

/** Base64 of `bytes` bytes (the content does not matter to the checks). */
const base64Of = (bytes: number) => Buffer.alloc(bytes, 7).toString("base64");
const MB = 1024 * 1024;
/** world()'s clock, in WhatsApp's seconds. */
const NOW = Date.parse("2025-03-01T08:00:00Z") / 1000;

/** `message` with its downloads counted. */
function counted<T extends { downloadMedia(): Promise<unknown> }>(message: T): T & { downloads: number } {
  const download = message.downloadMedia.bind(message);
  const out = Object.assign(message, { downloads: 0 });
  out.downloadMedia = async () => {
    out.downloads++;
    return download();
  };
  return out as T & { downloads: number };
}

describe("a resident's text on WhatsApp Web", () => {
  it("becomes an inbound WhatsApp message on the whatsapp-web route, with their number, name and time", async () => {
    const { deps } = world();
    const message = wwebMessage({ from: "96171123456@c.us", body: "في حفرة كبيرة عالطريق", timestamp: 1_740_816_000, _data: { notifyName: "  Rima  " } });
    expect(await toInbound(message, deps)).toEqual({
      channel: "whatsapp",
      route: "whatsapp-web",
      providerMessageId: message.id._serialized,
      from: "+96171123456",
      verifiedPhone: true,
      text: "في حفرة كبيرة عالطريق",
      media: [],
      profileName: "Rima",
      receivedAt: new Date(1_740_816_000 * 1000),
    });
  });

  it("comes from a hidden number (LID) as such, not vouched for", async () => {
    const asked: string[] = [];
    const { deps } = world({
      resolveSender: async (chatId) => {
        asked.push(chatId);
        return { from: "lid:123456789012345", verifiedPhone: false };
      },
    });
    const inbound = await toInbound(wwebMessage({ from: "123456789012345@lid", body: "مرحبا" }), deps);
    expect(asked).toEqual(["123456789012345@lid"]);
    expect(inbound).toMatchObject({ from: "lid:123456789012345", verifiedPhone: false, text: "مرحبا" });
  });

  it("has no profile name when WhatsApp gives a blank one", async () => {
    const { deps } = world();
    expect(await toInbound(wwebMessage({ body: "hi", _data: { notifyName: "   " } }), deps)).not.toHaveProperty("profileName");
    expect(await toInbound(wwebMessage({ body: "hi" }), deps)).not.toHaveProperty("profileName");
  });

  it("takes our clock's time when WhatsApp gives none", async () => {
    const { deps } = world();
    expect((await toInbound(wwebMessage({ body: "hi", timestamp: 0 }), deps))?.receivedAt).toEqual(new Date("2025-03-01T08:00:00Z"));
  });

  it("loses its NULs, which the database could not store", async () => {
    const { deps } = world();
    expect((await toInbound(wwebMessage({ body: "a\u0000b" }), deps))?.text).toBe("ab");
  });
});

describe("what is not a resident writing to the town hall is ignored", () => {
  it.each([
    ["a group", wwebMessage({ from: "120363025246125486@g.us", author: "96171123456@c.us", body: "hi" })],
    ["a status update", wwebMessage({ from: "status@broadcast", isStatus: true, body: "my day" })],
    ["a status update not flagged as one", wwebMessage({ from: "status@broadcast", body: "my day" })],
    ["a broadcast list", wwebMessage({ from: "1700000000@broadcast", body: "sale!" })],
    ["a channel", wwebMessage({ from: "120363000000000000@newsletter", body: "news" })],
    ["our own message (sent from the phone)", wwebMessage({ fromMe: true, body: "we are on it" })],
    ["a missed call", wwebMessage({ type: "call_log" })],
    ["a sticker (it would pass for a photo)", wwebMessage({ type: "sticker", media: { mimetype: "image/webp", data: PNG_1x1 } })],
  ])("%s", async (_what, message) => {
    const { deps, lines, media } = world();
    expect(await toInbound(message, deps)).toBeNull();
    expect(media.files.size).toBe(0);
    expect(lines).toEqual([expect.objectContaining({ level: 20, msg: "WhatsApp Web message ignored" })]);
  });

  it.each([
    "e2e_notification",
    "notification",
    "notification_template",
    "gp2",
    "protocol",
    "revoked",
    "reaction",
    "ciphertext",
    "debug",
    "group_notification",
    "broadcast_notification",
    "poll_creation",
    "vcard",
    "multi_vcard",
    "buttons_response",
    "unknown",
  ])("a %s message", async (type) => {
    const { deps } = world();
    expect(await toInbound(wwebMessage({ type, body: "something" }), deps)).toBeNull();
  });

  it("never logs the chat a message was ignored from", async () => {
    const { deps, lines } = world();
    await toInbound(wwebMessage({ from: "96171123456@c.us", type: "reaction" }), deps);
    expect(JSON.stringify(lines)).not.toContain("71123456");
  });
});

describe("a pin", () => {
  it("is the message's location, with the place's name and address; the thumbnail in its body is not text", async () => {
    const { deps } = world();
    const message = wwebMessage({
      type: "location",
      body: "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD",
      location: { latitude: "33.7934", longitude: "35.8237", name: "Qab Elias Municipality", address: "Main Road, Qab Elias", description: "Qab Elias Municipality\nMain Road, Qab Elias" },
    });
    expect(await toInbound(message, deps)).toMatchObject({
      text: "",
      media: [],
      location: { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias Municipality", address: "Main Road, Qab Elias" },
    });
  });

  it("dropped where it was dropped (numbers, no name): just the coordinates", async () => {
    const { deps } = world();
    expect((await toInbound(wwebMessage({ type: "location", location: { latitude: 33.8, longitude: 35.9 } }), deps))?.location).toEqual({ latitude: 33.8, longitude: 35.9 });
  });

  it("labelled by its description when it has no name", async () => {
    const { deps } = world();
    const location = (await toInbound(wwebMessage({ type: "location", location: { latitude: 33.8, longitude: 35.9, description: "Near the school" } }), deps))?.location;
    expect(location).toEqual({ latitude: 33.8, longitude: 35.9, label: "Near the school" });
  });

  it.each([
    ["a latitude out of range", { latitude: 91, longitude: 35.9 }],
    ["a longitude out of range", { latitude: 33.8, longitude: "-180.5" }],
    ["coordinates that are not numbers", { latitude: "north", longitude: "35.9" }],
    ["an exponent", { latitude: "3e1", longitude: "35.9" }],
    ["NaN", { latitude: Number.NaN, longitude: 35.9 }],
  ])("with %s is handed over without a location", async (_what, location) => {
    const { deps, lines } = world();
    const inbound = await toInbound(wwebMessage({ type: "location", location }), deps);
    expect(inbound).not.toBeNull();
    expect(inbound).not.toHaveProperty("location");
    expect(lines.some((l) => l.level === 40)).toBe(true);
  });
});

describe("media", () => {
  it("a photo with a caption is kept in the media store, and the caption is the text", async () => {
    const { deps, media } = world();
    const inbound = await toInbound(wwebMessage({ type: "image", body: "الحفرة", media: { mimetype: "image/png", data: PNG_1x1 } }), deps);
    expect(inbound?.text).toBe("الحفرة");
    expect(inbound?.media).toEqual([{ url: expect.stringMatching(/^local-media:/), contentType: "image/png" }]);
    const key = localMediaKey(inbound?.media[0]?.url ?? "");
    expect(key).not.toBeNull();
    expect(media.files.get(key ?? "")).toEqual({ bytes: Buffer.from(PNG_1x1, "base64"), contentType: "image/png" });
  });

  it.each([
    ["a voice note", "ptt", "audio/ogg; codecs=opus"],
    ["an audio file", "audio", "audio/mpeg"],
    ["an iPhone audio message", "audio", "audio/mp4"],
    ["a video", "video", "video/mp4"],
    ["an old phone's video", "video", "video/3gpp"],
    ["a PDF", "document", "application/pdf"],
    ["a Word document", "document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
    ["a photo sent as a document", "document", "image/jpeg"],
  ])("%s is kept with the type WhatsApp gave, parameters and all", async (_what, type, mimetype) => {
    const { deps, media } = world();
    const inbound = await toInbound(wwebMessage({ type, media: { mimetype, data: base64Of(1000) } }), deps);
    expect(inbound?.media).toEqual([{ url: expect.stringMatching(/^local-media:/), contentType: mimetype }]);
    expect(inbound?.text).toBe("");
    expect([...media.files.values()]).toEqual([{ bytes: Buffer.alloc(1000, 7), contentType: mimetype }]);
  });

  it("a voice note reaches the engine as media it cannot read, as on Twilio (which sends audio/ogg)", async () => {
    // The engine answers "media.unsupported" for anything that is not a photo (src/conversation/media.ts).
    expect(mediaKindOf("audio/ogg; codecs=opus")).toBe("audio");
    const { deps } = world();
    const inbound = await toInbound(wwebMessage({ type: "ptt", media: { mimetype: "audio/ogg; codecs=opus", data: base64Of(10) } }), deps);
    expect(inbound?.media[0]?.contentType).not.toMatch(/^image\//);
  });

  it.each<[string, string, WwebMedia, number]>([
    ["a photo over 5 MB", "image", { mimetype: "image/jpeg", data: base64Of(5 * MB + 1) }, 5 * MB],
    ["a video over 16 MB", "video", { mimetype: "video/mp4", data: base64Of(16 * MB + 3) }, 16 * MB],
    ["a document over 16 MB", "document", { mimetype: "application/pdf", data: base64Of(16 * MB + 1) }, 16 * MB],
  ])("%s is left out, the caption still handed over", async (_what, type, file, maxBytes) => {
    const { deps, media, lines } = world();
    const inbound = await toInbound(wwebMessage({ type, body: "look", media: file }), deps);
    expect(inbound).toMatchObject({ text: "look", media: [] });
    expect(media.files.size).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "media too large to keep: handed over without it", maxBytes }));
  });

  it("a photo of exactly 5 MB is kept", async () => {
    const { deps } = world();
    const inbound = await toInbound(wwebMessage({ type: "image", media: { mimetype: "image/jpeg", data: base64Of(5 * MB) } }), deps);
    expect(inbound?.media).toHaveLength(1);
  });

  it.each([
    ["an SVG (it could carry script)", "image/svg+xml"],
    ["an HTML page", "text/html"],
    ["an old Word file (macros)", "application/msword"],
    ["an executable", "application/x-msdownload"],
    ["a malformed type", "image/png<script>"],
  ])("%s is left out", async (_what, mimetype) => {
    const { deps, media, lines } = world();
    const inbound = await toInbound(wwebMessage({ type: "document", body: "file", media: { mimetype, data: base64Of(100) } }), deps);
    expect(inbound).toMatchObject({ text: "file", media: [] });
    expect(media.files.size).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: "media of a type we do not keep: handed over without it" }));
  });

  it.each<[string, WwebMedia | "gone" | Error]>([
    ["WhatsApp no longer has the file", "gone"],
    ["the download fails", new Error("Evaluation failed: 96171123456")],
    ["the file is empty", { mimetype: "image/jpeg", data: "" }],
  ])("when %s more than 30 minutes after it was sent, the message is handed over without it, and the log masks the number", async (_what, file) => {
    const { deps, lines } = world();
    const inbound = await toInbound(wwebMessage({ from: "96171123456@c.us", type: "image", body: "pothole", timestamp: NOW - 31 * 60, media: file }), deps);
    expect(inbound).toMatchObject({ from: "+96171123456", text: "pothole", media: [] });
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain("71123456");
    expect(JSON.stringify(lines)).toContain("+961•••••456");
  });

  it.each<[string, "gone" | Error, number]>([
    ["WhatsApp is still fetching the file (the library says undefined)", "gone", NOW - 60],
    ["the download fails (a network error)", new Error("Evaluation failed: 96171123456"), NOW - 29 * 60],
    ["the client was destroyed meanwhile", new Error("Protocol error (Runtime.callFunctionOn): Target closed."), NOW],
    ["the file is not there, the message stamped ahead of our clock", "gone", NOW + 120],
  ])("when %s within 30 minutes, it rejects: the chat stays unread and the photo is taken at the next catch-up", async (_what, file, timestamp) => {
    const { deps, lines, media } = world();
    const message = wwebMessage({ from: "96171123456@c.us", type: "image", body: "pothole", timestamp, media: file });
    await expect(toInbound(message, deps)).rejects.toThrow(/media.*not downloaded.*again/i);
    expect(media.files.size).toBe(0);
    expect(JSON.stringify(lines)).not.toContain("71123456");
  });

  it("taken again once the media is there, it is kept", async () => {
    const { deps, media } = world();
    let ready = false;
    const message = wwebMessage({ type: "image", timestamp: NOW - 60, media: { mimetype: "image/png", data: PNG_1x1 } });
    const download = message.downloadMedia.bind(message);
    message.downloadMedia = async () => (ready ? download() : undefined);
    await expect(toInbound(message, deps)).rejects.toThrow();
    ready = true;
    expect((await toInbound(message, deps))?.media).toHaveLength(1);
    expect(media.files.size).toBe(1);
  });

  it("a file that does not come, from a message without a time, is handed over without it (its age is unknown)", async () => {
    const { deps } = world();
    expect(await toInbound(wwebMessage({ type: "image", body: "pothole", timestamp: 0, media: "gone" }), deps)).toMatchObject({ text: "pothole", media: [] });
  });

  it.each<[string, { size?: number; mimetype?: string }, string]>([
    ["a 300 MB document", { size: 300 * MB, mimetype: "application/pdf" }, "media too large to keep: handed over without it"],
    ["a 6 MB photo", { size: 6 * MB, mimetype: "image/jpeg" }, "media too large to keep: handed over without it"],
    ["a file larger than anything we keep, of a type not told", { size: 17 * MB }, "media too large to keep: handed over without it"],
    ["an executable", { size: 1000, mimetype: "application/x-msdownload" }, "media of a type we do not keep: handed over without it"],
    ["an SVG of unknown size", { mimetype: "image/svg+xml" }, "media of a type we do not keep: handed over without it"],
  ])("%s, as WhatsApp describes it before the download, is never downloaded", async (_what, data, msg) => {
    const { deps, media, lines } = world();
    // Recent: a failed download would reject, so only skipping the download hands it over.
    const message = counted(wwebMessage({ type: "document", body: "file", timestamp: NOW - 60, _data: data, media: "gone" }));
    expect(await toInbound(message, deps)).toMatchObject({ text: "file", media: [] });
    expect(message.downloads).toBe(0);
    expect(media.files.size).toBe(0);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg }));
  });

  it("a file WhatsApp describes as one we keep is downloaded, and checked again as it comes", async () => {
    const { deps, media } = world();
    const kept = counted(wwebMessage({ type: "image", _data: { size: 70, mimetype: "image/png" }, media: { mimetype: "image/png", data: PNG_1x1 } }));
    expect((await toInbound(kept, deps))?.media).toHaveLength(1);
    expect(kept.downloads).toBe(1);
    // Described as small, it is not: the downloaded file decides.
    const big = counted(wwebMessage({ type: "image", _data: { size: 70, mimetype: "image/jpeg" }, media: { mimetype: "image/jpeg", data: base64Of(5 * MB + 1) } }));
    expect((await toInbound(big, deps))?.media).toEqual([]);
    expect(big.downloads).toBe(1);
    expect(media.files.size).toBe(1);
  });

  it("a media message without media has no text: the library puts a thumbnail in its body", async () => {
    const { deps } = world();
    const inbound = await toInbound(wwebMessage({ type: "image", body: "/9j/4AAQSkZJRgABAQ", hasMedia: false }), deps);
    expect(inbound).toMatchObject({ text: "", media: [] });
  });

  it("is not handed over when the store fails: the message stays unread for the next catch-up", async () => {
    const { deps } = world({
      media: {
        put: async () => Promise.reject(new Error("ENOSPC")),
        get: async () => null,
      },
    });
    await expect(toInbound(wwebMessage({ type: "image", media: { mimetype: "image/png", data: PNG_1x1 } }), deps)).rejects.toThrow("ENOSPC");
  });
});
