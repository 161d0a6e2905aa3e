import type { Express } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolate } from "../../../src/http/staff/format.js";
import type { Route, RouteDirectory, RouteStatus } from "../../../src/channels/routes.js";
import { createApp } from "../../../src/http/createApp.js";
import { inbound } from "../../support/builders.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, residentFiles, residentSays, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const NOW = new Date("2026-12-02T09:00:00.000Z");
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

let world: World;
type Browser = StaffBrowser & { username: string };
let hala: Browser;
let rania: Browser;
const phones = { android: freshPhone(), twilio: freshPhone(), whatsapp: freshPhone() };
const refs = { android: 0, twilio: 0, whatsapp: 0 };

/** A fake of the process's routes: what is configured, and their state, set by each test. */
let configured: Route[] = [];
let statuses: RouteStatus[] = [];
const routes: RouteDirectory = {
  get configured() {
    return configured;
  },
  statuses: () => statuses,
};
let app: Express;

/** A resident files a pothole report by SMS through the town's Android phone. */
async function filedByAndroid(from: string): Promise<number> {
  let last = "";
  for (const text of ["في جورة كبيرة بالطريق العام", "1", "قدام الجامع", "1"]) last = (await world.inbox(inbound({ from, route: "android", text }))).replies.join("\n");
  const reference = Number(/#(\d+)/.exec(last)?.[1]);
  expect(reference, last).toBeGreaterThan(0);
  return reference;
}

/** The page as a staff member reads it in that language (their setting, changed here). */
async function readIn(locale: "ar" | "en", browser: Browser, path: string) {
  await world.db.staff.updateMany({ where: { username: browser.username }, data: { locale } });
  const res = await browser.get(path);
  expect(res.status, `${locale} ${path}`).toBe(200);
  return res.text;
}

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "hala", "rania");
  app = createApp({ ...world.deps, routes, clock: () => NOW });
  refs.android = await filedByAndroid(phones.android);
  refs.twilio = await residentFiles(world.app, phones.twilio, "في جورة كبيرة بالطريق العام");
  await residentSays(world.app, phones.whatsapp, "talk to someone", "whatsapp");
  refs.whatsapp = (await world.db.ticket.findFirstOrThrow({ where: { channel: "whatsapp" } })).reference;
  hala = Object.assign(await signedIn(app, "hala"), { username: "hala" });
  rania = Object.assign(await signedIn(app, "rania"), { username: "rania" });
}, 120_000);
afterAll(async () => {
  await world.drop();
});

describe("staff see the route a ticket came by", () => {
  it("a ticket filed through the Android gateway says so, in Arabic and in English", async () => {
    const arabic = textOf(await readIn("ar", hala, `/staff/tickets/${refs.android}`));
    expect(arabic).toContain('<span class="badge channel channel-sms route-android">رسالة نصية · بوابة أندرويد</span>');
    expect(arabic).toContain("قُدّم عبر رسالة نصية · بوابة أندرويد"); // the history's "created" event
    expect(arabic).toContain("يُرسل عبر بوابة أندرويد"); // where a reply goes

    const english = textOf(await readIn("en", hala, `/staff/tickets/${refs.android}`));
    expect(english).toContain(">SMS · Android gateway</span>");
    expect(english).toContain("Filed on SMS · Android gateway");
    expect(english).toContain("Sent via: Android gateway (the way the resident last wrote).");
    // Every message of the conversation came or went by the phone too.
    const badges = [...english.matchAll(/<div class="msg-meta">.*?<\/div>/g)].map((m) => m[0]);
    expect(badges.length).toBeGreaterThan(4);
    for (const meta of badges) expect(meta).toContain("SMS · Android gateway");
  });

  it("Twilio SMS names Twilio; WhatsApp, which only Twilio carries, is just WhatsApp", async () => {
    const sms = textOf(await readIn("en", hala, `/staff/tickets/${refs.twilio}`));
    expect(sms).toContain("SMS · Twilio");
    expect(sms).not.toContain("Android gateway");

    const whatsapp = textOf(await readIn("en", hala, `/staff/tickets/${refs.whatsapp}`));
    expect(whatsapp).toContain('<span class="badge channel channel-whatsapp route-twilio">WhatsApp</span>');
    expect(whatsapp).not.toContain("WhatsApp · Twilio");
  });

  it("an event written before routes existed shows the channel alone", async () => {
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference: refs.twilio }, include: { events: { where: { kind: "created" } } } });
    await world.db.ticketEvent.update({ where: { id: ticket.events[0]!.id }, data: { data: JSON.stringify({ channel: "sms", needsHuman: false }) } });
    const page = textOf(await readIn("en", hala, `/staff/tickets/${refs.twilio}`));
    expect(page).toContain("Filed on SMS<");
  });

  it("the queue row shows the route", async () => {
    const rowOf = (page: string, reference: number) => textOf(new RegExp(`<tr data-reference="${reference}"[\\s\\S]*?</tr>`).exec(page)?.[0] ?? "");
    expect(rowOf(await readIn("ar", rania, "/staff"), refs.android)).toContain("رسالة نصية · بوابة أندرويد");
    const english = await readIn("en", hala, "/staff?status=all");
    expect(rowOf(english, refs.android)).toContain("SMS · Android gateway");
    expect(rowOf(english, refs.twilio)).toContain("SMS · Twilio");
    // The refreshed rows too.
    expect(rowOf((await hala.get("/staff/queue/rows")).text, refs.android)).toContain("SMS · Android gateway");
  });
});

/** One card of the channels page, by route. */
const cardOf = (page: string, route: Route) => textOf(new RegExp(`<section class="card" id="route-${route}"[\\s\\S]*?</section>`).exec(page)?.[0] ?? "");
const alertsIn = (card: string) => [...card.matchAll(/role="alert">([^<]*)</g)].map((m) => m[1]!);

describe("/staff/admin/channels", () => {
  it("is for admins: an agent gets 403 and no link", async () => {
    const res = await rania.get("/staff/admin/channels");
    expect(res.status).toBe(403);
    expect((await rania.get("/staff")).text).not.toContain('href="/staff/admin/channels"');
    expect((await hala.get("/staff")).text).toContain('href="/staff/admin/channels"');
  });

  it("shows each configured route's state, and how to turn on the others", async () => {
    configured = ["android", "smpp"];
    statuses = [
      { route: "android", state: "ready" },
      { route: "smpp", state: "disconnected", since: minutesAgo(3), detail: "bind refused: ESME_RBINDFAIL <x>" },
    ];
    const english = await readIn("en", hala, "/staff/admin/channels");
    // Configured first, in the order SMS prefers them.
    expect(english.indexOf('id="route-android"')).toBeLessThan(english.indexOf('id="route-smpp"'));
    expect(english.indexOf('id="route-smpp"')).toBeLessThan(english.indexOf('id="route-twilio"'));

    expect(cardOf(english, "android")).toContain("Ready");
    const smpp = cardOf(english, "smpp");
    expect(smpp).toContain("Disconnected");
    expect(smpp).toContain("bind refused: ESME_RBINDFAIL <x>");
    expect(english).toContain("ESME_RBINDFAIL &lt;x&gt;"); // escaped
    // Explained in words; the SMSC's own text only behind "Details".
    expect(smpp).toContain("The provider refused our credentials.");
    expect(smpp).toContain('<details class="tech-details"><summary>Details</summary><pre class="sms-text" dir="ltr">bind refused: ESME_RBINDFAIL <x></pre></details>');
    expect(alertsIn(smpp)).toEqual(["This route is down: its messages wait in the outbox until it reconnects."]);
    const twilio = cardOf(english, "twilio");
    expect(twilio).toContain("Not configured");
    for (const name of ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM"]) expect(twilio).toContain(name);
    expect(twilio).not.toContain("ANDROID_SMS_URL");

    configured = ["twilio"];
    statuses = [{ route: "twilio", state: "unknown" }];
    const arabic = await readIn("ar", hala, "/staff/admin/channels");
    expect(arabic).toContain('<html lang="ar" dir="rtl">');
    expect(cardOf(arabic, "twilio")).toContain("مُعدّ");
    const android = cardOf(arabic, "android");
    expect(android).toContain("غير مُعدّ");
    for (const name of ["ANDROID_SMS_URL", "ANDROID_SMS_USERNAME", "ANDROID_SMS_PASSWORD", "ANDROID_SMS_SIGNING_KEY"]) expect(android).toContain(name);
    for (const name of ["SMPP_URL", "SMPP_SYSTEM_ID", "SMPP_PASSWORD", "SMPP_SOURCE_ADDR"]) expect(cardOf(arabic, "smpp")).toContain(name);
  });

  it("a configured gateway no phone has called is 'never heard from'", async () => {
    configured = ["android"];
    statuses = [{ route: "android", state: "ready" }];
    await world.db.gatewayHeartbeat.deleteMany({});
    expect(alertsIn(cardOf(await readIn("en", hala, "/staff/admin/channels"), "android"))).toEqual([expect.stringContaining("Never heard from")]);
    expect(alertsIn(cardOf(await readIn("ar", hala, "/staff/admin/channels"), "android"))).toEqual([expect.stringContaining("لم يصل منه أي اتصال")]);
  });

  it("a phone silent for 11 minutes is a warning; one heard 2 minutes ago is not", async () => {
    configured = ["android"];
    statuses = [{ route: "android", state: "ready" }];
    await world.db.gatewayHeartbeat.deleteMany({});
    await world.db.gatewayHeartbeat.create({ data: { municipalityId: MUNICIPALITY, route: "android", deviceId: "pixel-<kitchen>", lastSeenAt: minutesAgo(2), lastEvent: "system:ping" } });
    const fine = await readIn("en", hala, "/staff/admin/channels");
    const card = cardOf(fine, "android");
    expect(alertsIn(card)).toEqual([]);
    expect(card).toContain("pixel-<kitchen>");
    expect(fine).toContain("pixel-&lt;kitchen&gt;");
    expect(card).toContain("system:ping");
    expect(card).toContain("Reporting");

    await world.db.gatewayHeartbeat.create({ data: { municipalityId: MUNICIPALITY, route: "android", deviceId: "samsung-hall", lastSeenAt: minutesAgo(11), lastEvent: "sms:received" } });
    const english = cardOf(await readIn("en", hala, "/staff/admin/channels"), "android");
    expect(alertsIn(english)).toEqual([expect.stringContaining(`The phone ${isolate("samsung-hall")} has been silent for ${isolate("11 minutes")}`)]);
    expect(english).toContain("Silent");
    const arabic = cardOf(await readIn("ar", hala, "/staff/admin/channels"), "android");
    expect(alertsIn(arabic)).toEqual([expect.stringContaining(`الهاتف ${isolate("samsung-hall")} صامت منذ ${isolate("11 دقيقة")}`)]);

    // Another town's phone, or another route's, is not ours to show.
    await world.db.gatewayHeartbeat.create({ data: { municipalityId: "zahle", route: "android", deviceId: "zahle-phone", lastSeenAt: minutesAgo(60), lastEvent: "system:ping" } });
    expect(await readIn("en", hala, "/staff/admin/channels")).not.toContain("zahle-phone");
  });

  it("counts each route's messages waiting in the outbox and those failed in the last 24 hours", async () => {
    configured = ["android", "smpp"];
    statuses = [
      { route: "android", state: "ready" },
      { route: "smpp", state: "ready" },
    ];
    await world.db.outbox.deleteMany({});
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: phones.android } });
    const queue = async (route: Route, row: string, message: string, updatedAt = minutesAgo(30)) => {
      const created = await world.db.message.create({
        data: { municipalityId: MUNICIPALITY, residentId: resident.id, direction: "outbound", kind: "staff", channel: "sms", route, body: "…", status: message },
      });
      await world.db.outbox.create({ data: { municipalityId: MUNICIPALITY, messageId: created.id, residentId: resident.id, channel: "sms", route, toAddress: resident.phone, body: "…", status: row, nextAttemptAt: NOW } });
      await world.db.message.update({ where: { id: created.id }, data: { updatedAt } });
    };
    await queue("android", "pending", "queued");
    await queue("android", "pending", "queued");
    await queue("android", "sending", "queued");
    await queue("android", "failed", "failed"); // gave up an hour ago
    await queue("android", "sent", "undelivered", minutesAgo(5)); // the phone reported it undelivered
    await queue("android", "failed", "failed", minutesAgo(30 * 60)); // yesterday's: not counted
    await queue("smpp", "pending", "queued");
    await queue("twilio", "held", "held"); // waiting for the resident, not for a provider

    const english = await readIn("en", hala, "/staff/admin/channels");
    expect(cardOf(english, "android")).toContain("3 messages waiting in the outbox");
    expect(cardOf(english, "android")).toContain("2 messages failed in the last 24 hours");
    expect(cardOf(english, "smpp")).toContain("1 message waiting in the outbox");
    expect(cardOf(english, "smpp")).toContain("0 messages failed in the last 24 hours");
    expect(cardOf(english, "twilio")).toContain("0 messages waiting in the outbox");

    const arabic = await readIn("ar", hala, "/staff/admin/channels");
    expect(cardOf(arabic, "android")).toContain("3 رسائل تنتظر في صندوق الإرسال");
    expect(cardOf(arabic, "android")).toContain("فشلت رسالتان خلال آخر 24 ساعة");
    expect(cardOf(arabic, "smpp")).toContain("رسالة واحدة تنتظر في صندوق الإرسال");
    expect(cardOf(arabic, "smpp")).toContain("لم تفشل أي رسالة خلال آخر 24 ساعة");
    expect(cardOf(arabic, "twilio")).toContain("لا رسائل تنتظر في صندوق الإرسال");
  });

  it("explains the latest failure and a waiting message's last error in the reader's language, the raw text behind Details", async () => {
    configured = ["twilio", "android"];
    statuses = [
      { route: "twilio", state: "unknown" },
      { route: "android", state: "ready" },
    ];
    await world.db.outbox.deleteMany({});
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: phones.android } });
    const sent = async (route: Route, row: { status: string; lastError?: string }, message: { status: string; errorCode?: string; errorMessage?: string }) => {
      const created = await world.db.message.create({
        data: { municipalityId: MUNICIPALITY, residentId: resident.id, direction: "outbound", kind: "staff", channel: "sms", route, body: "…", ...message },
      });
      await world.db.outbox.create({ data: { municipalityId: MUNICIPALITY, messageId: created.id, residentId: resident.id, channel: "sms", route, toAddress: resident.phone, body: "…", nextAttemptAt: NOW, ...row } });
      await world.db.message.update({ where: { id: created.id }, data: { updatedAt: minutesAgo(20) } });
    };
    await sent("android", { status: "failed" }, { status: "failed", errorCode: "ECONNREFUSED", errorMessage: "connect ECONNREFUSED 192.168.1.20:8080" });
    await sent("android", { status: "pending", lastError: "ETIMEDOUT: no answer from the Android gateway within 10000ms" }, { status: "queued" });
    await sent("twilio", { status: "failed" }, { status: "failed", errorCode: "21211", errorMessage: "The 'To' number +96170 is not a valid phone number." });

    const arabic = await readIn("ar", hala, "/staff/admin/channels");
    const android = cardOf(arabic, "android");
    expect(android).toContain("فشلت آخر محاولة لإرسال رسالة منتظرة: <span class=\"provider-error\">لم يُجب المزوّد في الوقت المحدد");
    expect(android).toContain("رفض خادم المزوّد الاتصال.");
    expect(android).toContain('<pre class="sms-text" dir="ltr">connect ECONNREFUSED 192.168.1.20:8080</pre>');
    const twilio = cardOf(arabic, "twilio");
    expect(twilio).toContain("رقم هاتف غير صالح (Twilio 21211).");
    // No English outside the Details toggles (the route's name and its settings aside).
    const outsideDetails = twilio.replace(/<details[\s\S]*?<\/details>/g, "");
    expect(outsideDetails).not.toContain("not a valid phone number");
    expect(twilio).toContain("21211: The 'To' number +96170 is not a valid phone number.");

    expect(cardOf(await readIn("en", hala, "/staff/admin/channels"), "android")).toContain("The provider's server refused the connection.");
  });

  it("without a route directory the page still reads, and says it knows no state", async () => {
    const browser = Object.assign(await signedIn(world.app, "hala"), { username: "hala" });
    const page = textOf(await readIn("en", browser, "/staff/admin/channels"));
    expect(page).toContain("This server does not report the state of its routes.");
    for (const route of ["twilio", "android", "smpp"] as const) expect(cardOf(page, route)).toContain("Not configured");
  });
});
