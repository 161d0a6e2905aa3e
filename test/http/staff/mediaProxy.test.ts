import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diskMediaStore } from "../../../src/channels/whatsappWeb/diskMediaStore.js";
import { localMediaUrl, type MediaStore } from "../../../src/channels/whatsappWeb/mediaStore.js";
import type { Media } from "../../../src/conversation/types.js";
import { createApp } from "../../../src/http/createApp.js";
import type { InboundMessage } from "../../../src/inbox/inboundMessage.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../../support/twilio.js";
import { freshPhone, hire, signedIn, StaffBrowser, type World } from "./staffBrowser.js";

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]);
let world: World;
let app: Express;
let reference = 0;
let rania: StaffBrowser;
let karim: StaffBrowser;
/** What the fake Twilio media endpoint answers next, and which URLs it was asked for. */
let upstream: () => Promise<Response> = async () => new Response(JPEG, { headers: { "content-type": "image/jpeg", "content-length": String(JPEG.length) } });
const fetched: string[] = [];
/** Where WhatsApp Web's files are kept, and which keys the staff pages read from it. */
let mediaDir = "";
let store: MediaStore;
const read: string[] = [];

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "rania", "karim");
  mediaDir = await mkdtemp(path.join(tmpdir(), "baladiya-proxy-media-"));
  const disk = diskMediaStore(mediaDir);
  store = {
    put: (bytes, contentType) => disk.put(bytes, contentType),
    get: (key) => {
      read.push(key);
      return disk.get(key);
    },
  };
  app = createApp({
    ...world.deps,
    mediaStore: store,
    twilio: {
      ...world.deps.twilio,
      fetchMedia: (url) => {
        fetched.push(url);
        return upstream();
      },
    },
  });
  // A resident reports a pothole on WhatsApp with a pin and a photo.
  const from = `whatsapp:${freshPhone()}`;
  const say = async (fixture: Parameters<typeof twilioPayload>[0], body?: string) =>
    twimlMessages((await postToTwilioWebhook(app, twilioPayload(fixture, { From: from, ...(body !== undefined ? { Body: body } : {}) }))).text).join("\n");
  await say("whatsapp-text");
  await say("whatsapp-text", "1");
  await say("whatsapp-location");
  await say("whatsapp-image");
  reference = Number(/#(\d+)/.exec(await say("whatsapp-text", "1"))?.[1]);
  [rania, karim] = await Promise.all([signedIn(app, "rania"), signedIn(app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
  await rm(mediaDir, { recursive: true, force: true });
});

const photoMessageId = async () =>
  (await world.db.message.findFirstOrThrow({ where: { direction: "inbound", media: { contains: "image/jpeg" } } })).id;

describe("photos on the ticket page", () => {
  it("are shown inline through our own address; the page never names Twilio's", async () => {
    const page = await rania.get(`/staff/tickets/${reference}`);
    expect(page.text).toContain(`<img src="/staff/tickets/${reference}/media/ticket/0"`);
    expect(page.text).toContain(`<img src="/staff/tickets/${reference}/media/${await photoMessageId()}/0"`);
    expect(page.text).not.toContain("api.twilio.com");
  });

  it("are streamed from Twilio with the account's credentials, not redirected", async () => {
    fetched.length = 0;
    for (const owner of ["ticket", String(await photoMessageId())]) {
      const res = await rania.get(`/staff/tickets/${reference}/media/${owner}/0`);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("image/jpeg");
      expect(res.headers.location).toBeUndefined();
      expect(Buffer.from(res.body as Buffer)).toEqual(JPEG);
    }
    expect(fetched).toEqual([expect.stringMatching(/^https:\/\/api\.twilio\.com\/.+\/Media\/ME/), expect.stringMatching(/^https:\/\/api\.twilio\.com\/.+\/Media\/ME/)]);
  });

  it("are 404 for staff who may not see the ticket, and Twilio is not even asked", async () => {
    fetched.length = 0;
    expect((await karim.get(`/staff/tickets/${reference}/media/ticket/0`)).status).toBe(404);
    expect((await karim.get(`/staff/tickets/${reference}/media/${await photoMessageId()}/0`)).status).toBe(404);
    expect(fetched).toEqual([]);
  });

  it("need a session", async () => {
    const stranger = new StaffBrowser(app);
    const res = await stranger.get(`/staff/tickets/${reference}/media/ticket/0`, { "X-Requested-With": "fetch" });
    expect(res.status).toBe(401);
  });

  it("are 404 for a photo that is not there, or a message of someone else's conversation", async () => {
    expect((await rania.get(`/staff/tickets/${reference}/media/ticket/5`)).status).toBe(404);
    const elsewhere = await world.db.message.create({
      data: {
        municipalityId: MUNICIPALITY,
        residentId: (await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: freshPhone() } })).id,
        direction: "inbound",
        channel: "whatsapp",
        body: "",
        status: "received",
        media: JSON.stringify([{ url: "https://api.twilio.com/other", contentType: "image/png" }]),
      },
    });
    expect((await rania.get(`/staff/tickets/${reference}/media/${elsewhere.id}/0`)).status).toBe(404);
  });

  it.each([
    ["Twilio answers an error", async () => new Response("nope", { status: 500 })],
    ["the network fails", async (): Promise<Response> => Promise.reject(new Error("ECONNRESET"))],
    ["Twilio sends something that is not an image", async () => new Response("<html>", { headers: { "content-type": "text/html" } })],
    ["Twilio sends an SVG (it could carry script)", async () => new Response("<svg/>", { headers: { "content-type": "image/svg+xml" } })],
  ])("are 404 when %s", async (_case, answer) => {
    upstream = answer;
    try {
      expect((await rania.get(`/staff/tickets/${reference}/media/ticket/0`)).status).toBe(404);
    } finally {
      upstream = async () => new Response(JPEG, { headers: { "content-type": "image/jpeg" } });
    }
  });

  it("are 404 when Twilio is not configured (no credentials to fetch with)", async () => {
    const browser = await signedIn(world.app, "rania"); // world.app has no fetchMedia
    expect((await browser.get(`/staff/tickets/${reference}/media/ticket/0`)).status).toBe(404);
  });
});

describe("files a resident sent through WhatsApp Web", () => {
  const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");
  const VOICE = Buffer.from("OggS\u0000\u0002 a voice note");
  const PDF = Buffer.from("%PDF-1.4 the building permit");
  let wwebReference = 0;
  /** The ticket's media, by what it is. */
  let at: { photo: number; voice: number; pdf: number };

  beforeAll(async () => {
    // A resident reports a pothole from the municipality's own WhatsApp number: a pin, a photo, a
    // voice note and a PDF, as the whatsapp-web adapter hands them over (files already in the store).
    const from = freshPhone();
    let n = 0;
    const say = async (fields: Partial<InboundMessage>) =>
      (
        await world.inbox({
          channel: "whatsapp",
          route: "whatsapp-web",
          providerMessageId: `false_${from.slice(1)}@c.us_3A${String(++n).padStart(18, "0")}`,
          from,
          verifiedPhone: true,
          text: "",
          media: [],
          receivedAt: new Date(),
          ...fields,
        })
      ).replies.join("\n");
    const file = async (bytes: Buffer, contentType: string): Promise<Media> => ({ url: localMediaUrl(await store.put(bytes, contentType)), contentType });
    await say({ text: "fi jora kbire bel tari2" });
    await say({ text: "1" });
    await say({ location: { latitude: 33.7934, longitude: 35.8237 } });
    await say({ media: [await file(PNG, "image/png")] });
    await say({ media: [await file(VOICE, "audio/ogg; codecs=opus")] });
    await say({ text: "the permit", media: [await file(PDF, "application/pdf")] });
    wwebReference = Number(/#(\d+)/.exec(await say({ text: "1" }))?.[1]);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference: wwebReference } });
    const media = JSON.parse(ticket.media) as Media[];
    const index = (type: string) => media.findIndex((m) => m.contentType.startsWith(type));
    at = { photo: index("image/png"), voice: index("audio/ogg"), pdf: index("application/pdf") };
  }, 60_000);

  it("are on the ticket", () => {
    expect(wwebReference).toBeGreaterThan(0);
    expect(Object.values(at).every((i) => i >= 0)).toBe(true);
  });

  it("show the photo inline and link the voice note and the document, through our own address", async () => {
    const page = await rania.get(`/staff/tickets/${wwebReference}`);
    expect(page.text).toContain(`<img src="/staff/tickets/${wwebReference}/media/ticket/${at.photo}"`);
    expect(page.text).toContain(`<a href="/staff/tickets/${wwebReference}/media/ticket/${at.voice}" target="_blank" rel="noopener" class="attachment">رسالة صوتية ${at.voice + 1}</a>`);
    expect(page.text).toContain(`<a href="/staff/tickets/${wwebReference}/media/ticket/${at.pdf}" target="_blank" rel="noopener" class="attachment">مستند ${at.pdf + 1} (تنزيل)</a>`);
    expect(page.text).not.toContain("local-media:");
  });

  it("are read from the store, never asked of Twilio", async () => {
    fetched.length = 0;
    const photo = await rania.get(`/staff/tickets/${wwebReference}/media/ticket/${at.photo}`);
    expect(photo.status).toBe(200);
    expect(photo.headers).toMatchObject({ "content-type": "image/png", "content-disposition": "inline", "cache-control": "private, no-store", "x-content-type-options": "nosniff" });
    expect(photo.headers["content-security-policy"]).toBe("default-src 'none'; sandbox");
    expect(Buffer.from(photo.body as Buffer)).toEqual(PNG);

    const voice = await rania.get(`/staff/tickets/${wwebReference}/media/ticket/${at.voice}`);
    expect(voice.status).toBe(200);
    expect(voice.headers).toMatchObject({ "content-type": "audio/ogg", "content-disposition": "inline", "x-content-type-options": "nosniff" });
    expect(Buffer.from(voice.body as Buffer)).toEqual(VOICE);
    expect(fetched).toEqual([]);
  });

  it("download a document, named after the ticket", async () => {
    const pdf = await rania.get(`/staff/tickets/${wwebReference}/media/ticket/${at.pdf}`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers["content-type"]).toBe("application/pdf");
    expect(pdf.headers["content-disposition"]).toBe(`attachment; filename="ticket-${wwebReference}-ticket-${at.pdf}.pdf"`);
    expect(pdf.headers["content-security-policy"]).toBe("default-src 'none'; sandbox");
    expect(Buffer.from(pdf.body as Buffer)).toEqual(PDF);
  });

  it("are served from the resident's message too", async () => {
    const message = await world.db.message.findFirstOrThrow({ where: { direction: "inbound", media: { contains: "application/pdf" } } });
    const res = await rania.get(`/staff/tickets/${wwebReference}/media/${message.id}/0`);
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body as Buffer)).toEqual(PDF);
  });

  it("are 404 for staff who may not see the ticket, and the store is not even read", async () => {
    read.length = 0;
    for (const i of Object.values(at)) expect((await karim.get(`/staff/tickets/${wwebReference}/media/ticket/${i}`)).status).toBe(404);
    expect(read).toEqual([]);
  });

  /** A message of the resident's on this ticket, carrying `media` as stored. */
  const messageWith = async (media: Media[]) => {
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference: wwebReference } });
    if (ticket.residentId === null) throw new Error("the ticket has no resident");
    const data = { municipalityId: MUNICIPALITY, residentId: ticket.residentId, ticketId: ticket.id, direction: "inbound", channel: "whatsapp", route: "whatsapp-web", body: "", status: "received", media: JSON.stringify(media) };
    return world.db.message.create({ data });
  };

  it("are 404 when the file is gone from the store", async () => {
    const key = await store.put(Buffer.from("short-lived"), "image/jpeg");
    const message = await messageWith([{ url: localMediaUrl(key), contentType: "image/jpeg" }]);
    expect((await rania.get(`/staff/tickets/${wwebReference}/media/${message.id}/0`)).status).toBe(200);
    await unlink(path.join(mediaDir, key));
    expect((await rania.get(`/staff/tickets/${wwebReference}/media/${message.id}/0`)).status).toBe(404);
  });

  it("are 404, and never handed to Twilio's fetcher, when the stored address is not a well-formed key", async () => {
    const forged = await messageWith([
      { url: "local-media:../../../etc/passwd", contentType: "image/jpeg" },
      { url: `local-media:${"a".repeat(64)}.png`, contentType: "image/png" },
    ]);
    fetched.length = 0;
    read.length = 0;
    expect((await rania.get(`/staff/tickets/${wwebReference}/media/${forged.id}/0`)).status).toBe(404);
    expect((await rania.get(`/staff/tickets/${wwebReference}/media/${forged.id}/1`)).status).toBe(404);
    expect(fetched).toEqual([]);
    expect(read).toEqual([`${"a".repeat(64)}.png`]);
  });

  it("are 404 when the server keeps no media (WhatsApp Web not configured)", async () => {
    const browser = await signedIn(world.app, "rania"); // world.app has no mediaStore
    expect((await browser.get(`/staff/tickets/${wwebReference}/media/ticket/${at.photo}`)).status).toBe(404);
  });

  it("a Twilio photo is never looked up in the store", async () => {
    read.length = 0;
    expect((await rania.get(`/staff/tickets/${reference}/media/ticket/0`)).status).toBe(200);
    expect(read).toEqual([]);
  });
});
