import type { Express } from "express";
import QRCode from "qrcode";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WhatsAppWebControl, WhatsAppWebState, WhatsAppWebStatus } from "../../../src/channels/whatsappWeb/status.js";
import { createApp } from "../../../src/http/createApp.js";
import { isolate } from "../../../src/http/staff/format.js";
import { createTestWorld } from "../../support/testApp.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const PAGE = "/staff/admin/whatsapp-web";
const NOW = new Date("2026-12-02T09:00:00.000Z");
const secondsAgo = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const QR = "2@wq1Kx9ZfT3pV,8mUx0hR6Q/1e9oA=,Xj4bT2nY+o=,vD3t9m0=";

/**
 * A WhatsApp Web channel for the page: its status is whatever the test sets (or an error it
 * throws), and it records who asked to log out or link again.
 */
function fakeWhatsAppWeb() {
  const calls: Array<{ call: "requestLogout" | "requestRelink"; staffId: number }> = [];
  let current: WhatsAppWebStatus | null | Error = null;
  const control: WhatsAppWebControl = {
    status: () => (current instanceof Error ? Promise.reject(current) : Promise.resolve(current)),
    requestLogout: async (staffId) => {
      calls.push({ call: "requestLogout", staffId });
    },
    requestRelink: async (staffId) => {
      calls.push({ call: "requestRelink", staffId });
    },
  };
  return {
    control,
    calls,
    set(status: WhatsAppWebStatus | null | Error) {
      current = status;
    },
  };
}

/** A status as the holding instance publishes it, fresh (updated 5 s ago). */
const status = (state: WhatsAppWebState, fields: Partial<WhatsAppWebStatus> = {}): WhatsAppWebStatus => ({
  state,
  since: secondsAgo(300),
  updatedAt: secondsAgo(5),
  holder: "web-2:4711",
  ...fields,
});

let world: World;
let ids: Awaited<ReturnType<typeof hire>>;
let wweb: ReturnType<typeof fakeWhatsAppWeb>;
let app: Express;
let hala: StaffBrowser; // admin
let rania: StaffBrowser; // agent
let halaOff: StaffBrowser; // the same admin, on a server where the channel is off

beforeAll(async () => {
  world = await createTestWorld();
  ids = await hire(world, "hala", "rania");
  wweb = fakeWhatsAppWeb();
  app = createApp({ ...world.deps, whatsappWeb: wweb.control, clock: () => NOW });
  [hala, rania, halaOff] = await Promise.all([signedIn(app, "hala"), signedIn(app, "rania"), signedIn(world.app, "hala")]);
}, 60_000);
afterAll(async () => {
  await world.drop();
});
beforeEach(async () => {
  wweb.calls.length = 0;
  wweb.set(status("ready", { linkedNumber: "+96171123456" }));
  await readsIn("en");
});

/** Hala reads the pages in this language from her next request on. */
const readsIn = (locale: "ar" | "en") => world.db.staff.update({ where: { id: ids.hala }, data: { locale } });

/** The page as Hala sees it (200 expected). */
async function page(browser = hala) {
  const res = await browser.get(PAGE);
  expect(res.status, res.text).toBe(200);
  return res;
}

/** The status card, its text decoded. */
const cardOf = (body: string) => textOf(/<section class="card wweb-status"[\s\S]*?<\/section>/.exec(body)?.[0] ?? "");

/** Follows a form's 303 and returns the flash messages of the page it lands on. */
async function flashAfter(browser: StaffBrowser, res: Awaited<ReturnType<StaffBrowser["post"]>>) {
  expect(res.status, res.text).toBe(303);
  const next = await browser.follow(res);
  return [...next.text.matchAll(/<p class="flash flash-(\w+)" role="\w+">([^<]*)<\/p>/g)].map((m) => ({ kind: m[1], text: textOf(m[2]!) }));
}

describe("the WhatsApp Web page is for admins", () => {
  it.each([PAGE, `${PAGE}/logout`])("an agent opening %s gets 403", async (path) => {
    const res = await rania.get(path);
    expect(res.status).toBe(403);
    expect(textOf(res.text)).toContain("غير مسموح");
  });

  it("an agent's forged forms log nothing out and link nothing", async () => {
    expect((await rania.post(`${PAGE}/logout`, { confirm: "yes" })).status).toBe(403);
    wweb.set(status("logged_out"));
    expect((await rania.post(`${PAGE}/relink`)).status).toBe(403);
    expect(wweb.calls).toEqual([]);
  });
});

describe("when the channel is off", () => {
  it("explains how to turn it on, and that it is an unofficial client", async () => {
    const res = await page(halaOff);
    expect(res.headers.refresh).toBeUndefined();
    const text = textOf(res.text);
    expect(text).toContain("WhatsApp Web is off on this server");
    for (const name of ["WHATSAPP_WEB_ENABLED=true", "CHROMIUM_PATH", "WHATSAPP_WEB_DATA_DIR"]) expect(res.text).toContain(`<code dir="ltr">${name}</code>`);
    expect(text).toContain("This is an unofficial WhatsApp client");
    expect(text).toContain("WhatsApp may ban a number that sends unsolicited messages in volume");
    expect(text).toContain("Twilio's WhatsApp channel is the supported way at scale.");
    expect(res.text).not.toContain("<svg");
    expect(res.text).not.toContain(`action="${PAGE}/`);

    await readsIn("ar");
    const arabic = await page(halaOff);
    expect(arabic.text).toContain('<html lang="ar" dir="rtl">');
    expect(textOf(arabic.text)).toContain("واتساب ويب غير مفعّل على هذا الخادم");
    expect(textOf(arabic.text)).toContain("عميل واتساب غير رسمي");
  });

  it("its forms only lead back to the page", async () => {
    await page(halaOff);
    for (const path of [`${PAGE}/logout`, `${PAGE}/relink`]) {
      const res = await halaOff.post(path, { confirm: "yes" });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(PAGE);
    }
    expect((await halaOff.get(`${PAGE}/logout`)).headers.location).toBe(PAGE);
  });
});

describe("an admin sees the channel's state", () => {
  it.each<{ state: WhatsAppWebState; fields?: Partial<WhatsAppWebStatus>; badge: string; says: string; reloads: boolean; logout: boolean; relink: boolean }>([
    { state: "starting", badge: "Starting", says: "WhatsApp Web is loading", reloads: true, logout: true, relink: false },
    { state: "waiting_for_qr", fields: { qr: QR, qrAt: secondsAgo(12) }, badge: "Waiting for a QR scan", says: "Link the municipality's phone", reloads: true, logout: true, relink: false },
    { state: "ready", fields: { linkedNumber: "+96171123456" }, badge: "Linked", says: 'Linked to the number <strong><bdi dir="ltr">+96171123456</bdi></strong>', reloads: false, logout: true, relink: false },
    { state: "disconnected", fields: { retryAt: new Date("2026-12-02T09:00:40.000Z"), detail: "Navigation failed <net::ERR>" }, badge: "Disconnected", says: "The connection to WhatsApp is lost", reloads: true, logout: true, relink: false },
    { state: "logged_out", fields: { detail: "LOGOUT" }, badge: "Logged out", says: "The phone is unlinked", reloads: false, logout: false, relink: true },
    { state: "stopped", badge: "Stopped", says: "Stopped: the server is shutting down", reloads: false, logout: false, relink: false },
  ])("$state", async ({ state, fields, badge, says, reloads, logout, relink }) => {
    wweb.set(status(state, fields));
    const res = await page();
    const card = cardOf(res.text);
    expect(card).toContain(`<span class="badge`);
    expect(card).toContain(`>${badge}</span>`);
    expect(card).toContain(says);
    // 11:00 in Beirut is 09:00 UTC; since five minutes before.
    expect(card).toContain(`Since ${isolate("2 Dec 2026, 10:55")}`);
    expect(card).toContain('Held by <bdi dir="ltr"><span class="mono">web-2:4711</span></bdi>');
    // Reloads itself only while something changes by itself.
    expect(res.headers.refresh).toBe(reloads ? "10" : undefined);
    expect(res.text.includes(`href="${PAGE}/logout"`)).toBe(logout);
    expect(res.text.includes(`action="${PAGE}/relink"`)).toBe(relink);
    // The QR code only while waiting for it to be scanned.
    expect(res.text.includes("<svg")).toBe(state === "waiting_for_qr");
    // The unofficial client's warning stays in view.
    expect(textOf(res.text)).toContain("This is an unofficial WhatsApp client");
  });

  it("the QR code is drawn server-side, with how to scan it and its age", async () => {
    wweb.set(status("waiting_for_qr", { qr: QR, qrAt: secondsAgo(12) }));
    const res = await page();
    const svg = await QRCode.toString(QR, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
    expect(res.text).toContain(`<div class="wweb-qr" role="img" aria-label="QR code to link the municipality&#39;s WhatsApp">${svg}</div>`);
    const card = cardOf(res.text);
    expect(card).toContain("Go to Settings → Linked devices → Link a device.");
    expect(card).toContain("Code from 12 seconds ago.");
    expect(card).toContain("WhatsApp replaces the code about every 20 seconds");
    expect(card).not.toContain("may have expired");
    // The QR string itself is never printed.
    expect(res.text).not.toContain(QR);
    expect(res.text).toContain('href="/staff/assets/whatsappWeb.css"');

    wweb.set(status("waiting_for_qr", { qr: QR, qrAt: secondsAgo(95) }));
    expect(cardOf((await page()).text)).toContain("This code may have expired");
  });

  it("a QR string with markup in it is encoded into the code, not written into the page", async () => {
    const hostile = `</svg><script>alert("qr")</script><img src=x onerror=alert(1)>`;
    wweb.set(status("waiting_for_qr", { qr: hostile, qrAt: secondsAgo(3), detail: `<script>alert("detail")</script>` }));
    const res = await page();
    expect(res.text).not.toContain("<script");
    expect(res.text).not.toContain("<img");
    expect(res.text).not.toContain('alert("qr")');
    expect(res.text).toContain(await QRCode.toString(hostile, { type: "svg", errorCorrectionLevel: "M", margin: 2 }));
    // The detail is shown, escaped, behind "Details".
    expect(res.text).toContain("&lt;script&gt;alert(&quot;detail&quot;)&lt;/script&gt;</pre></details>");
  });

  it("waiting without a QR code yet says it is on its way", async () => {
    wweb.set(status("waiting_for_qr"));
    const res = await page();
    expect(cardOf(res.text)).toContain("The QR code to scan is on its way.");
    expect(res.text).not.toContain("<svg");
  });

  it("a disconnected channel says when it tries again, with the technical detail behind a toggle", async () => {
    wweb.set(status("disconnected", { retryAt: new Date("2026-12-02T09:00:40.000Z"), detail: "Navigation failed <net::ERR>" }));
    const res = await page();
    expect(cardOf(res.text)).toContain(`Next attempt at ${isolate("2 Dec 2026, 11:00")}.`);
    expect(res.text).toContain('<details class="tech-details"><summary>Details</summary><pre class="sms-text" dir="ltr">Navigation failed &lt;net::ERR&gt;</pre></details>');
  });

  it("a status not refreshed for over a minute means no instance holds the session", async () => {
    wweb.set(status("ready", { linkedNumber: "+96171123456", updatedAt: secondsAgo(61) }));
    const res = await page();
    expect(res.headers.refresh).toBeUndefined();
    const card = cardOf(res.text);
    expect(card).toContain(">No instance</span>");
    expect(card).toContain("No instance holds the WhatsApp Web session right now");
    expect(card).toContain(`Last heard from at ${isolate("2 Dec 2026, 10:58")}.`);
    expect(card).toContain(`Last known state: ${isolate("Linked")}`);
    expect(res.text).not.toContain(`href="${PAGE}/logout"`);

    wweb.set(null);
    const never = cardOf((await page()).text);
    expect(never).toContain("No instance holds the WhatsApp Web session right now");
    expect(never).toContain("No instance has held the session yet");
  });

  it("in Arabic, right to left, the number kept left to right", async () => {
    await readsIn("ar");
    const res = await page();
    expect(res.text).toContain('<html lang="ar" dir="rtl">');
    const card = cardOf(res.text);
    expect(card).toContain(">مربوط</span>");
    expect(card).toContain('مربوط بالرقم <strong><bdi dir="ltr">+96171123456</bdi></strong>');

    wweb.set(status("waiting_for_qr", { qr: QR, qrAt: secondsAgo(2) }));
    const waiting = cardOf((await page()).text);
    expect(waiting).toContain("اذهبوا إلى الإعدادات ← الأجهزة المرتبطة ← ربط جهاز.");
    expect(waiting).toContain("رمز من ثانيتين.");
  });

  it("the channels page links to it from the WhatsApp Web card", async () => {
    const res = await hala.get("/staff/admin/channels");
    expect(res.status).toBe(200);
    const card = /<section class="card" id="route-whatsapp-web"[\s\S]*?<\/section>/.exec(res.text)?.[0] ?? "";
    expect(card).toContain("WhatsApp Web");
    expect(card).toContain("linked by scanning a QR code");
    expect(card).toContain(`href="${PAGE}"`);
  });
});

describe("logging out", () => {
  it("asks first: the confirmation page says what stops, and only its form logs out", async () => {
    const ask = await hala.get(`${PAGE}/logout`);
    expect(ask.status).toBe(200);
    const text = textOf(ask.text);
    expect(text).toContain(`Unlink the number ${isolate("+96171123456")} from Baladiya?`);
    expect(text).toContain("Residents' WhatsApp messages to this number stop reaching the town hall");
    expect(ask.text).toContain('<input type="hidden" name="confirm" value="yes">');

    // Straight to the POST without the confirmation: back to the question, nothing asked of the channel.
    const direct = await hala.post(`${PAGE}/logout`);
    expect(direct.status).toBe(303);
    expect(direct.headers.location).toBe(`${PAGE}/logout`);
    expect(wweb.calls).toEqual([]);
  });

  it("needs the CSRF token of the admin's own session", async () => {
    await hala.get(`${PAGE}/logout`);
    for (const token of ["", rania.csrf]) {
      const res = await hala.post(`${PAGE}/logout`, { confirm: "yes", _csrf: token });
      expect(res.status).toBe(403);
      expect(textOf(res.text)).toContain("The page had expired");
    }
    expect(wweb.calls).toEqual([]);
  });

  it("confirmed, asks the channel to log out in the admin's name, and says so", async () => {
    await hala.get(`${PAGE}/logout`);
    const flash = await flashAfter(hala, await hala.post(`${PAGE}/logout`, { confirm: "yes" }));
    expect(wweb.calls).toEqual([{ call: "requestLogout", staffId: ids.hala }]);
    expect(flash).toEqual([{ kind: "success", text: expect.stringContaining("Logging out: the phone is unlinked within a few seconds.") }]);
  });

  it("while waiting for a scan, the question needs no number", async () => {
    wweb.set(status("waiting_for_qr", { qr: QR, qrAt: secondsAgo(1) }));
    expect(textOf((await hala.get(`${PAGE}/logout`)).text)).toContain("Log Baladiya out of WhatsApp Web?");
    await hala.post(`${PAGE}/logout`, { confirm: "yes" });
    expect(wweb.calls).toEqual([{ call: "requestLogout", staffId: ids.hala }]);
  });

  it("when already logged out (or nobody holds the session) there is nothing to log out of", async () => {
    await page();
    for (const current of [status("logged_out"), status("ready", { updatedAt: secondsAgo(120) }), null]) {
      wweb.set(current);
      expect(await flashAfter(hala, await hala.post(`${PAGE}/logout`, { confirm: "yes" }))).toEqual([{ kind: "info", text: "There is no session to log out of right now." }]);
      const ask = await hala.get(`${PAGE}/logout`);
      expect(ask.status).toBe(303);
      expect(ask.headers.location).toBe(PAGE);
    }
    expect(wweb.calls).toEqual([]);
  });
});

describe("linking again", () => {
  it("after a logout, asks the channel for a new QR code in the admin's name", async () => {
    wweb.set(status("logged_out"));
    await page();
    const flash = await flashAfter(hala, await hala.post(`${PAGE}/relink`));
    expect(wweb.calls).toEqual([{ call: "requestRelink", staffId: ids.hala }]);
    expect(flash).toEqual([{ kind: "success", text: "A new QR code is on its way: it appears on this page within a few seconds." }]);
  });

  it("needs the CSRF token", async () => {
    wweb.set(status("logged_out"));
    await page();
    expect((await hala.post(`${PAGE}/relink`, { _csrf: "" })).status).toBe(403);
    expect(wweb.calls).toEqual([]);
  });

  it("is not asked for when the channel is not logged out", async () => {
    await page();
    expect(await flashAfter(hala, await hala.post(`${PAGE}/relink`))).toEqual([{ kind: "info", text: "WhatsApp Web is not logged out: there is nothing to link again." }]);
    expect(wweb.calls).toEqual([]);
  });
});
