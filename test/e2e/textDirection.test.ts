import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouteDirectory, RouteStatus } from "../../src/channels/routes.js";
import { createApp } from "../../src/http/createApp.js";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld } from "../support/testApp.js";

const DOCS_SCREENSHOTS = path.join(import.meta.dirname, "../../docs/screenshots");
const PHONE = { width: 390, height: 844 };

/** Where each piece of an element's text is drawn: the left and right edge of its first box. */
interface Drawn {
  text: string;
  left: number;
  right: number;
}

/**
 * In the page (as source: the tests are not compiled with the DOM's types): the boxes of `pieces`,
 * found one after the other in the text of the first element matching `selector` whose text
 * contains them all — what the reader sees, not the order in the markup.
 */
const DRAWN_IN_PAGE = `(selector, pieces) => {
  const element = [...document.querySelectorAll(selector)].find((e) => pieces.every((p) => (e.textContent ?? "").includes(p)));
  if (!element) throw new Error("no " + selector + " holds " + JSON.stringify(pieces));
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  let node = 0;
  let offset = 0;
  return pieces.map((piece) => {
    for (; node < nodes.length; node++, offset = 0) {
      const at = nodes[node].data.indexOf(piece, offset);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(nodes[node], at);
      range.setEnd(nodes[node], at + piece.length);
      offset = at + piece.length;
      const box = range.getClientRects()[0];
      return { text: piece, left: box.left, right: box.right };
    }
    throw new Error('"' + piece + '" not found in order');
  });
}`;

async function drawn(page: Page, selector: string, pieces: string[]): Promise<Drawn[]> {
  return page.evaluate<Drawn[], undefined>(`(${DRAWN_IN_PAGE})(${JSON.stringify(selector)}, ${JSON.stringify(pieces)})`, undefined);
}

/** Each piece drawn to the right of the one before: left to right, as written. */
function expectLeftToRight(boxes: Drawn[]) {
  for (let i = 1; i < boxes.length; i++) expect(boxes[i]!.left, `${boxes[i]!.text} after ${boxes[i - 1]!.text}`).toBeGreaterThan(boxes[i - 1]!.left);
}

/** The quote marks hug the value on both sides: neither has wandered to the other end of the sentence. */
function expectQuoted(open: Drawn, value: Drawn, close: Drawn) {
  const [first, last] = open.left < close.left ? [open, close] : [close, open];
  expect(Math.abs(first.right - value.left), "a quote mark just before the value").toBeLessThan(3);
  expect(Math.abs(value.right - last.left), "a quote mark just after the value").toBeLessThan(3);
}

const FSI = "\u2068";
const PDI = "\u2069";

describe.skipIf(!haveChromium)("mixed Arabic and Latin text reads right, in a real browser", () => {
  let world: World;
  let session: BrowserSession;
  let page: Page;
  let base: string;
  let statuses: RouteStatus[] = [];

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "hala", role: "admin", locale: "ar" });
    const routes: RouteDirectory = { configured: ["smpp"], statuses: () => statuses };
    session = await openBrowser(createApp({ ...world.deps, routes }));
    ({ page, base } = session);
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("an account import's errors keep each refused value whole and between its quotes", async () => {
    await signIn(session, `${base}/staff/admin/accounts/import`, "hala");
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    const csv = [
      "account_number,holder_name,account_type,description,currency,amount_due,due_date,verification_code",
      "08 540 123,ريما الحاج,property,,LBP,1500000,2026-12-31,4821",
      "QE-10232,محمد علي,flat,,LBP,1500000,2026-12-31,7390",
      "QE-10233,سامي,business,,USD,-25 $,2026-12-31,5512",
    ].join("\n");
    await page.setInputFiles('input[name="accounts"]', { name: "حسابات-2026.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await Promise.all([page.waitForLoadState("load"), page.click('form[enctype="multipart/form-data"] button[type="submit"]')]);
    await expect.poll(() => page.locator("tr.import-error").count()).toBe(3);

    // Every inserted value is isolated in the markup...
    const cells = await page.locator("tr.import-error td:last-child").allTextContents();
    expect(cells[0]).toContain(`"${FSI}08 540 123${PDI}"`);
    expect(cells[1]).toContain(`"${FSI}flat${PDI}"`);
    expect(cells[2]).toContain(`"${FSI}-25 $${PDI}"`);
    for (const cell of cells) expect(cell).toMatch(new RegExp(`^${FSI}[a-z_]+${PDI} `)); // the column, first in the Arabic sentence

    // ...and drawn as written: "08 540 123", not "123 540 08"; "-25 $", not "$ 25-".
    const phone = await drawn(page, "tr.import-error td", ['"', "08", "540", "123", '"']);
    expectLeftToRight(phone.slice(1, 4));
    expectQuoted(phone[0]!, { text: "08 540 123", left: phone[1]!.left, right: phone[3]!.right }, phone[4]!);
    const amount = await drawn(page, "tr.import-error td", ['"', "-", "25", "$", '"']);
    expectLeftToRight(amount.slice(1, 4));
    expectQuoted(amount[0]!, { text: "-25 $", left: amount[1]!.left, right: amount[3]!.right }, amount[4]!);
    // A Latin word quoted in an Arabic sentence keeps its quotes around it, and the sentence reads right to left.
    const [verb, open, value, close] = await drawn(page, "tr.import-error td", ["لا", '"', "flat", '"']);
    expectQuoted(open!, value!, close!);
    expect(verb!.left).toBeGreaterThan(value!.right);

    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, "account-import-phone-ar.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("a consent import's refused phone number reads left to right inside the Arabic reason", async () => {
    await page.goto(`${base}/staff/surveys/import`);
    const csv = "phone,language,area,consent_source\n08 540 12,ar,حي المدارس,drive-2026-03\n";
    await page.setInputFiles('input[name="consent"]', { name: "consent.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await Promise.all([page.waitForLoadState("load"), page.click('form[enctype="multipart/form-data"] button[type="submit"]')]);
    await expect.poll(() => page.locator("tr.import-error").count()).toBe(1);
    expect(await page.locator("tr.import-error td:last-child").textContent()).toBe(`رقم هاتف غير صالح: ${FSI}08 540 12${PDI}`);
    const [label, ...groups] = await drawn(page, "tr.import-error td", ["رقم", "08", "540", "12"]);
    expectLeftToRight(groups);
    expect(label!.left, "the sentence starts on the right").toBeGreaterThan(groups[2]!.right);
  });

  it("a provider error is explained in Arabic; the raw text waits behind the details toggle, as written", async () => {
    statuses = [{ route: "smpp", state: "disconnected", since: new Date(), detail: "getaddrinfo ENOTFOUND smsc.example.lb" }];
    await page.goto(`${base}/staff/admin/channels`);
    const card = page.locator("#route-smpp");
    expect(await card.textContent()).toContain("تعذّر العثور على عنوان مزوّد الخدمة (DNS)");
    const raw = card.locator("details pre");
    expect(await raw.isVisible()).toBe(false);
    await card.locator("details summary").click();
    expect(await raw.isVisible()).toBe(true);
    expect(await raw.getAttribute("dir")).toBe("ltr");
    expectLeftToRight(await drawn(page, "#route-smpp details pre", ["getaddrinfo", "ENOTFOUND", "smsc.example.lb"]));

    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, "admin-phone-ar.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("/api/v1 is drawn as written inside the Arabic introduction of the API tokens", async () => {
    await page.goto(`${base}/staff/admin/api-tokens`);
    const [slash, api, version] = await drawn(page, "main p", ["/", "api", "v1"]);
    expectLeftToRight([slash!, api!, version!]);
  });
});
