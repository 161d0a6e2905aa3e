import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WhatsAppWebControl, WhatsAppWebStatus } from "../../src/channels/whatsappWeb/status.js";
import { createApp } from "../../src/http/createApp.js";
import { createTestWorld } from "../support/testApp.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;

const NOW = new Date("2026-12-02T09:00:00.000Z");
const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);

let world: World;
beforeAll(async () => {
  world = await createTestWorld();
}, 60_000);
afterAll(async () => {
  await world.drop();
});

/** A WhatsApp Web channel whose status() answers with `answer` (called on each request). */
function channel(answer: () => Promise<WhatsAppWebStatus | null>): WhatsAppWebControl {
  return { status: answer, requestLogout: async () => {}, requestRelink: async () => {} };
}

/** /healthz of the app with this WhatsApp Web channel (and the database check given, else the real one). */
function healthz(whatsappWeb: WhatsAppWebControl, checkDatabase = world.deps.checkDatabase) {
  return request(createApp({ ...world.deps, whatsappWeb, checkDatabase, clock: () => NOW })).get("/healthz");
}

describe("GET /healthz and WhatsApp Web", () => {
  it("says nothing about WhatsApp Web when the channel is off", async () => {
    const res = await request(world.app).get("/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", routes: [] });
  });

  it("gives its state, since when and the linked number, never the QR code or the technical detail", async () => {
    const ready: WhatsAppWebStatus = {
      state: "ready",
      since: secondsAgo(600),
      updatedAt: secondsAgo(5),
      linkedNumber: "+96171123456",
      holder: "web-1:42",
      detail: "resumed from /data/session",
    };
    const res = await healthz(channel(async () => ready));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: "ok",
      routes: [],
      whatsappWeb: { state: "ready", since: "2026-12-02T08:50:00.000Z", linkedNumber: "+96171123456", stale: false },
    });

    const waiting: WhatsAppWebStatus = { state: "waiting_for_qr", since: secondsAgo(30), updatedAt: secondsAgo(2), qr: "2@secret-qr", qrAt: secondsAgo(2), detail: "boom" };
    const second = await healthz(channel(async () => waiting));
    expect(second.body.whatsappWeb).toEqual({ state: "waiting_for_qr", since: "2026-12-02T08:59:30.000Z", stale: false });
    expect(second.text).not.toContain("secret-qr");
    expect(second.text).not.toContain("boom");
  });

  it("a status older than a minute is stale; none at all is unknown and stale", async () => {
    const old: WhatsAppWebStatus = { state: "ready", since: secondsAgo(3600), updatedAt: secondsAgo(61), linkedNumber: "+96171123456" };
    expect((await healthz(channel(async () => old))).body.whatsappWeb).toEqual({ state: "ready", since: "2026-12-02T08:00:00.000Z", linkedNumber: "+96171123456", stale: true });
    expect((await healthz(channel(async () => null))).body.whatsappWeb).toEqual({ state: "unknown", stale: true });
  });

  it.each([
    ["rejects", channel(() => Promise.reject(new Error("no such table: WhatsAppWebSession")))],
    [
      "throws",
      channel(() => {
        throw new Error("sync failure");
      }),
    ],
    ["never answers", channel(() => new Promise(() => {}))],
  ])("a status() that %s is 'unknown', and /healthz stays 200", async (_how, control) => {
    const res = await healthz(control);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", routes: [], whatsappWeb: { state: "unknown" } });
  });

  it("a database that does not answer is still the only reason for a 503", async () => {
    const res = await healthz(
      channel(() => Promise.reject(new Error("down"))),
      () => Promise.reject(new Error("connection refused")),
    );
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: "unavailable", error: "database not reachable", routes: [], whatsappWeb: { state: "unknown" } });
  });
});
