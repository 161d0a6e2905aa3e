import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCannedReplies } from "../../src/services/cannedReplies.js";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../support/twilio.js";

const SCREENSHOTS = path.join(import.meta.dirname, "../../test-results/screenshots");
const PHONE = { width: 390, height: 844 };

/** The rendered height of every element a locator finds. */
async function heights(locator: Locator): Promise<number[]> {
  const boxes = await Promise.all((await locator.all()).map((l) => l.boundingBox()));
  return boxes.filter((b): b is NonNullable<typeof b> => b !== null).map((b) => b.height);
}

describe.skipIf(!haveChromium)("the ticket page an agent lives in, in a real browser", () => {
  let world: World;
  let session: BrowserSession;
  let page: Page;
  let url = "";

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "rania", departments: ["public_works"], locale: "ar" });
    await staffMember(world, { username: "karim", departments: ["public_works"], locale: "en" });
    await seedCannedReplies(world.db, MUNICIPALITY);
    let last = "";
    for (const Body of ["في جورة كبيرة بالطريق العام", "1", "قرب الجامع", "1"]) {
      last = twimlMessages((await postToTwilioWebhook(world.app, twilioPayload("sms", { From: "+96171888999", Body }))).text).join("\n");
    }
    const reference = Number(/#(\d+)/.exec(last)?.[1]);
    session = await openBrowser(world.app);
    page = session.page;
    url = `${session.base}/staff/tickets/${reference}`;
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("on a 390×844 phone the status and the assignee are on the first screen, and every control is at least 44 px tall", async () => {
    await page.setViewportSize(PHONE);
    await signIn(session, url, "rania");
    for (const select of ['form[action$="/status"] select[name="status"]', 'form[action$="/assign"] select[name="assignee"]']) {
      const box = await page.locator(select).boundingBox();
      expect(box, select).not.toBeNull();
      expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height);
    }
    expect(Math.min(...(await heights(page.locator(".topbar .btn, .mainnav a"))))).toBeGreaterThanOrEqual(44);
    expect(Math.min(...(await heights(page.locator(".ticket-controls .btn, .ticket-controls select, .container summary"))))).toBeGreaterThanOrEqual(44);
    await page.screenshot({ path: path.join(SCREENSHOTS, "ticket-phone-ar.png") });
    await page.click(".canned-picker > summary");
    expect(Math.min(...(await heights(page.locator(".canned .chip"))))).toBeGreaterThanOrEqual(44);
    // Nothing wider than the phone.
    expect(Number(await page.evaluate("document.documentElement.scrollWidth"))).toBeLessThanOrEqual(PHONE.width);
  });

  it("typing / at the start of the reply searches the canned replies; arrows, Enter and Escape work them", async () => {
    const box = page.locator("#reply-body");
    const listbox = page.locator("#canned-listbox");
    await box.click();
    await page.keyboard.type("/صوره"); // without the hamza and with a haa, as people type
    await expect.poll(() => listbox.isVisible()).toBe(true);
    const options = listbox.locator('[role="option"]');
    expect(await options.count()).toBeGreaterThan(0);
    expect(await box.getAttribute("aria-activedescendant")).toBe(await options.first().getAttribute("id"));
    expect(await options.first().getAttribute("aria-selected")).toBe("true");
    expect(await options.first().textContent()).toContain("نحتاج إلى صورة");
    await page.screenshot({ path: path.join(SCREENSHOTS, "ticket-canned-search-ar.png") });
    await page.keyboard.press("Enter");
    expect(await listbox.isVisible()).toBe(false);
    expect(await box.inputValue()).toMatch(/^لنعالج طلبك #\d+ على نحو أفضل/);

    // Escape closes it and leaves what was typed.
    await box.fill("");
    await page.keyboard.type("/photo");
    await expect.poll(() => listbox.isVisible()).toBe(true);
    expect(await listbox.locator('[role="option"]').count()).toBe(1);
    await page.keyboard.press("Escape");
    expect(await listbox.isVisible()).toBe(false);
    expect(await box.inputValue()).toBe("/photo");

    // Down moves through the matches; the box says which one is active.
    await box.fill("");
    await page.keyboard.type("/request");
    await expect.poll(() => listbox.locator('[role="option"]').count()).toBeGreaterThan(1);
    await page.keyboard.press("ArrowDown");
    expect(await box.getAttribute("aria-activedescendant")).toBe("canned-option-1");
    expect(await page.locator("#canned-status").textContent()).toMatch(/^عدد الردود الجاهزة المطابقة: \d+\./);
  });

  it("Karim, on the same ticket, reads that Rania is writing a reply, without reloading", async () => {
    const karimContext = await page.context().browser()!.newContext({ viewport: { width: 1280, height: 900 } });
    const karim = await karimContext.newPage();
    try {
      await karim.goto(url);
      await karim.fill('input[name="username"]', "karim");
      await karim.fill('input[name="password"]', "correct horse battery");
      await Promise.all([karim.waitForURL(url), karim.click('form button[type="submit"]')]);
      // Rania's page is open with text in the box: "replying" goes out as she types.
      await page.locator("#reply-body").fill("");
      await page.keyboard.type("نعمل على الموضوع");
      await page.waitForTimeout(800);
      // Karim's next heartbeat (made now rather than in 15 seconds) brings the news.
      await karim.evaluate('document.dispatchEvent(new Event("visibilitychange"))');
      // The name comes isolated (FSI … PDI), so it keeps its order in an Arabic sentence too.
      await expect.poll(() => karim.locator("#presence").textContent()).toContain("\u2068Rania\u2069 is writing a reply to the resident.");
      expect(await karim.locator("#presence").isVisible()).toBe(true);
      await karim.screenshot({ path: path.join(SCREENSHOTS, "ticket-presence-en.png") });

      // Rania leaves the page: Karim's banner empties at his next heartbeat.
      await page.goto(`${session.base}/staff`);
      await page.waitForTimeout(300);
      await karim.evaluate('document.dispatchEvent(new Event("visibilitychange"))');
      await expect.poll(() => karim.locator("#presence").isVisible()).toBe(false);
    } finally {
      await karimContext.close();
    }
  });
});
