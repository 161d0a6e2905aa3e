import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
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

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "rania", "karim");
  app = createApp({
    ...world.deps,
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
