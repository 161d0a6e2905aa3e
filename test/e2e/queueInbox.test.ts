import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

const SCREENSHOTS = path.join(import.meta.dirname, "../../test-results/screenshots");
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const ARABIZI = "el 3amoud ma3 el daw msakkar 2odem el jemee3 min jem3a";

/** Counts the beeps the page makes: WebAudio oscillators started (installed before the page's scripts). */
const COUNT_BEEPS = `(() => {
  window.__beeps = 0;
  const Real = window.AudioContext;
  if (!Real) return;
  window.AudioContext = class extends Real {
    createOscillator() {
      window.__beeps++;
      return super.createOscillator();
    }
  };
})()`;

/** The boxes of the elements matching a selector that are shown, with their size. */
async function boxes(page: Page, selector: string): Promise<Array<{ width: number; height: number; text: string }>> {
  // As source: the tests are not compiled with the DOM's types.
  return page.evaluate<Array<{ width: number; height: number; text: string }>>(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => ({ box: e.getBoundingClientRect(), text: (e.textContent ?? "").trim().slice(0, 30) })).filter(({ box }) => box.width > 0 && box.height > 0).map(({ box, text }) => ({ width: box.width, height: box.height, text }))`,
  );
}

describe.skipIf(!haveChromium)("the queue in a real browser: a phone, the live refresh, the sound", () => {
  let world: World;
  let session: BrowserSession;
  let base: string;
  let page: Page;
  const refs = { pothole: 0, arabizi: 0 };

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "rania", departments: ["public_works", "electricity"], locale: "ar" });
    refs.pothole = (await residentFiles(world)).reference;
    refs.arabizi = (await residentFiles(world)).reference;
    await world.db.ticket.update({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference: refs.arabizi } }, data: { description: ARABIZI } });
    session = await openBrowser(world.app);
    ({ base, page } = session);
    await page.addInitScript(COUNT_BEEPS);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await signIn(session, `${base}/staff`, "rania");
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("on a phone the queue is a list of cards that fits the screen, the filters folded, every target at least 44 px", async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${base}/staff`);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(PHONE.width);
    expect(await page.isVisible("table.queue thead")).toBe(false);
    expect(await page.evaluate(`getComputedStyle(document.querySelector("tr[data-reference]")).display`)).toBe("grid");
    // Folded: the search is in view, the other filters are not.
    expect(await page.isVisible('input[name="q"]')).toBe(true);
    expect(await page.isVisible('select[name="category"]')).toBe(false);
    await page.screenshot({ path: path.join(SCREENSHOTS, "queue-phone-ar.png"), fullPage: true });

    // The bulk actions wait for a ticked ticket.
    expect(await page.isVisible('#bulk button[value="assign"]')).toBe(false);
    await page.click(`tr[data-reference="${refs.pothole}"] label.select-box`);
    expect(await page.isVisible('#bulk button[value="assign"]')).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOTS, "queue-phone-selected-ar.png") });

    for (const selector of [".queue-tab", ".filter-panel > summary", ".filters .search-row .btn", "label.select-box", "td.ref a", ".assign-me .btn", "#bulk .btn", "#bulk select"]) {
      const found = await boxes(page, selector);
      expect(found.length, selector).toBeGreaterThan(0);
      for (const box of found) expect(box.height, `${selector} "${box.text}"`).toBeGreaterThanOrEqual(44);
    }

    await page.click(".filter-panel > summary");
    expect(await page.isVisible('select[name="category"]')).toBe(true);
  });

  it("an Arabizi description in a right-to-left row starts at the right, like the rest of the row", async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      await page.setViewportSize(viewport);
      await page.goto(`${base}/staff`);
      const [cell, text] = await page.evaluate<[number, number]>(
        `(() => {
          const desc = document.querySelector('tr[data-reference="${refs.arabizi}"] .desc');
          return [desc.getBoundingClientRect().right, desc.querySelector("bdi").getBoundingClientRect().right];
        })()`,
      );
      expect(Math.abs(cell - text), `${viewport.width} px`).toBeLessThan(2);
    }
  });

  it("while the page is open: a new request moves in without a reload, the tab's title counts the unread, ticked rows stay ticked, and the sound (once turned on) beeps", async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(`${base}/staff`);
    const statuses: number[] = [];
    page.on("response", (response) => {
      if (response.url().includes("/staff/queue/rows")) statuses.push(response.status());
    });
    expect(await page.title()).toMatch(/^\(2\) قائمة الطلبات/);
    const refresh = () => page.evaluate(`document.dispatchEvent(new Event("visibilitychange"))`);

    // Nothing changed: the server answers 304 and renders nothing.
    await refresh();
    await expect.poll(() => statuses.length).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe(304);

    // The sound: off until turned on, remembered in this browser.
    expect(await page.getAttribute("#queue-sound", "aria-pressed")).toBe("false");
    await page.click("#queue-sound");
    expect(await page.getAttribute("#queue-sound", "aria-pressed")).toBe("true");
    expect(await page.evaluate(`localStorage.getItem("baladiya.queue.sound")`)).toBe("on");
    await page.reload();
    expect(await page.getAttribute("#queue-sound", "aria-pressed")).toBe("true");
    const beepsBefore = Number(await page.evaluate("window.__beeps"));

    await page.check(`tr[data-reference="${refs.pothole}"] input[name="reference"]`);
    const newcomer = (await residentFiles(world)).reference;
    await refresh();
    await expect.poll(() => page.locator(`tr[data-reference="${newcomer}"]`).count()).toBe(1);
    expect(await page.getAttribute(`tr[data-reference="${newcomer}"]`, "class")).toContain("row-new");
    expect(await page.title()).toMatch(/^\(3\) قائمة الطلبات/);
    expect(await page.textContent("#queue-count-all")).toBe("3");
    expect(await page.isChecked(`tr[data-reference="${refs.pothole}"] input[name="reference"]`)).toBe(true);
    expect(statuses.at(-1)).toBe(200);
    await expect.poll(() => page.evaluate("window.__beeps")).toBeGreaterThan(beepsBefore);
    await page.screenshot({ path: path.join(SCREENSHOTS, "queue-live-ar.png") });
  });
});
