import { mkdirSync } from "node:fs";
import path from "node:path";
import nock from "nock";
import type { Page } from "playwright-core";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { twilioSender } from "../../src/channels/twilio/twilioSender.js";
import { drainOutbox } from "../../src/jobs/drainOutbox.js";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../support/twilio.js";

const ACCOUNT = "AC0123456789abcdef0123456789abcdef";
const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`;
export const SCREENSHOTS = path.join(import.meta.dirname, "../../test-results/screenshots");

describe.skipIf(!haveChromium)("a morning at the town hall, in a real browser", () => {
  let world: World;
  let session: BrowserSession;
  let base: string;
  let page: Page;
  const resident = "+96171888777";
  let reference = 0;

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "rania", departments: ["public_works"], locale: "ar" });
    session = await openBrowser(world.app);
    ({ base, page } = session);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("a resident reports sewage by SMS through the signed Twilio webhook", async () => {
    let last = "";
    for (const Body of ["الصرف الصحي طايف والريحة قوية قدام المدرسة <script>alert(1)</script>", "1", "حي المدارس، قرب الفرن", "1"]) {
      const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: resident, Body }));
      expect(res.status).toBe(200);
      last = twimlMessages(res.text).join("\n");
    }
    reference = Number(/#(\d+)/.exec(last)?.[1]);
    expect(reference).toBeGreaterThan(10000);
  });

  it("an agent signs in and finds it at the top of her queue", async () => {
    await signIn(session, `${base}/staff`, "rania");
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    const link = page.locator(`a[href="/staff/tickets/${reference}"]`).first();
    await expect.poll(() => link.count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, "queue-ar.png"), fullPage: true });
    await Promise.all([page.waitForURL(`${base}/staff/tickets/${reference}`), link.click()]);
  });

  it("the ticket shows the conversation with the resident's words as text, not markup", async () => {
    const body = await page.textContent("body");
    expect(body).toContain("<script>alert(1)</script>");
    expect(body).toContain("حي المدارس، قرب الفرن");
    expect(session.alerted()).toBe(false);
    await page.screenshot({ path: path.join(SCREENSHOTS, "ticket-ar.png"), fullPage: true });
  });

  it("she replies, seeing the SMS cost as she types, and resolves the ticket", async () => {
    await page.fill("#reply-body", "مرحبا، فريق البلدية سيصلح المجرور اليوم.");
    await expect.poll(() => page.textContent("#sms-cost")).toMatch(/UCS-2/);
    await Promise.all([page.waitForURL(`${base}/staff/tickets/${reference}`), page.click(`form[action="/staff/tickets/${reference}/reply"] button[type="submit"]`)]);
    await page.selectOption(`form[action="/staff/tickets/${reference}/status"] select[name="status"]`, "resolved");
    // Resolving tells the resident: the page asks first, then she confirms.
    await Promise.all([page.waitForURL(`${base}/staff/tickets/${reference}/status`), page.click(`form[action="/staff/tickets/${reference}/status"] button[type="submit"]`)]);
    await Promise.all([page.waitForURL(`${base}/staff/tickets/${reference}`), page.click(`form:has(input[name="confirm"]) button[type="submit"]`)]);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference } });
    expect(ticket.status).toBe("resolved");
  });

  it("Twilio is asked to send the reply and the Arabic resolution notice to the resident", async () => {
    const sent: Array<Record<string, string>> = [];
    nock("https://api.twilio.com")
      .post(MESSAGES, (body) => {
        sent.push(body);
        return true;
      })
      .times(2)
      .reply(201, () => ({ sid: `SM${Math.random().toString(16).slice(2).padEnd(32, "0")}`, status: "queued", direction: "outbound-api" }));
    const sender = twilioSender({ accountSid: ACCOUNT, authToken: "0123456789abcdef0123456789abcdef", smsFrom: "+9611555000", whatsappFrom: undefined, publicBaseUrl: "https://baladiya.example.org", keepAlive: false });
    await drainOutbox({ db: world.db, senders: { twilio: sender }, logger: pino({ level: "silent" }), outbox: world.deps.outbox }, new Date());
    expect(sent.map((m) => [m.To, m.From, m.Body])).toEqual([
      [resident, "+9611555000", "مرحبا، فريق البلدية سيصلح المجرور اليوم."],
      [resident, "+9611555000", `تمت معالجة طلبك #${reference}. إن بقيت المشكلة، أرسل 1.`],
    ]);
    await page.reload();
    expect(await page.textContent("body")).toContain("مرحبا، فريق البلدية سيصلح المجرور اليوم.");
  });

  it("the same pages in English, left to right", async () => {
    await Promise.all([page.waitForLoadState("load"), page.click('form[action="/staff/locale"] button[type="submit"]')]);
    await expect.poll(() => page.getAttribute("html", "dir")).toBe("ltr");
    await page.screenshot({ path: path.join(SCREENSHOTS, "ticket-en.png"), fullPage: true });
    await page.goto(`${base}/staff?status=all`);
    await page.screenshot({ path: path.join(SCREENSHOTS, "queue-en.png"), fullPage: true });
    expect(await page.getAttribute("html", "lang")).toBe("en");
  });
});
