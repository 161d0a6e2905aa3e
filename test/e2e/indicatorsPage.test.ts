import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/createApp.js";
import { INDICATORS_NOW, MUNICIPALITY, seedIndicatorsTown } from "../services/places/childIndicatorsData.js";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld } from "../support/testApp.js";

/** The README shows this one. */
const DOCS_SCREENSHOTS = path.join(import.meta.dirname, "../../docs/screenshots");

const NEIGHBOURHOODS = [
  ["حي الجامع العمري", "Omari Mosque quarter"],
  ["البلدة القديمة", "Old town"],
  ["حي الكنيسة", "Church quarter"],
  ["طريق شتورة", "Chtaura road"],
  ["حي المدارس", "Schools quarter"],
  ["الحي الغربي", "Western quarter"],
] as const;
const PLACES = [
  ["school", "ثانوية قب الياس الرسمية", "Qab Elias Public Secondary School"],
  ["school", "مدرسة راهبات القلبين الأقدسين", "Sacred Hearts Sisters' School"],
  ["kindergarten", "روضة البراعم", "Al-Baraem Kindergarten"],
  ["playground", "ملعب البلدية", "Municipal playground"],
  ["schoolyard", "ملعب المدرسة المتوسطة", "Intermediate school yard"],
  ["park", "حديقة الأطفال", "Children's garden"],
  ["childcare", "حضانة الأمل", "Al-Amal nursery"],
  ["school", "المدرسة المتوسطة الرسمية", "Public Intermediate School"],
  ["playground", "ملعب وادي الدلم الصغير", "Small Wadi al-Delm playground"],
  ["kindergarten", "روضة الفرح", "Al-Farah Kindergarten"],
] as const;

/**
 * A town larger than the sample one (10 areas, 13 child-related places, open child-related requests
 * in six categories) on top of the fixed indicators town.
 */
async function seedLargerTown(world: World) {
  const db = world.db;
  await seedIndicatorsTown(db);
  const categories = await db.category.findMany({ where: { municipalityId: MUNICIPALITY }, orderBy: { sortOrder: "asc" }, take: 6 });
  const resident = (await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96170333444", locale: "ar" } })).id;
  const square = JSON.stringify({ type: "Polygon", coordinates: [[[35.81, 33.78], [35.83, 33.78], [35.83, 33.8], [35.81, 33.8], [35.81, 33.78]]] });
  let reference = 50000;
  for (const [i, [nameAr, nameEn]] of NEIGHBOURHOODS.entries()) {
    const area = await db.area.create({ data: { municipalityId: MUNICIPALITY, nameAr, nameEn, childPopulation: i % 3 === 0 ? null : 700 + i * 150, geometry: square } });
    for (const [j, category] of categories.entries()) {
      for (let k = 0; k <= (i + j) % 3; k++) {
        await db.ticket.create({
          data: {
            municipalityId: MUNICIPALITY,
            reference: reference++,
            residentId: resident,
            channel: "sms",
            locale: "ar",
            description: "—",
            categoryId: category.id,
            department: category.department,
            status: "new",
            childRelated: true,
            areaId: area.id,
            latitude: 33.785 + i * 0.001,
            longitude: 35.815 + j * 0.001,
            createdAt: new Date(INDICATORS_NOW.getTime() - (3 + i + j) * 86_400_000),
          },
        });
      }
    }
  }
  for (const [i, [kind, nameAr, nameEn]] of PLACES.entries()) {
    await db.place.create({ data: { municipalityId: MUNICIPALITY, kind, nameAr, nameEn, childRelated: true, latitude: 33.785 + (i % 6) * 0.001, longitude: 35.815 + (i % 5) * 0.001 } });
  }
}

/** PDF pages Chromium printed (each page object is `/Type /Page`; the tree is `/Type /Pages`). */
const pagesIn = (pdf: Buffer) => (pdf.toString("latin1").match(/\/Type\s*\/Page(?!s)/g) ?? []).length;

describe.skipIf(!haveChromium)("the child-safety indicators in a real browser", () => {
  let world: World;
  let session: BrowserSession;

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "hala", role: "admin", locale: "ar" });
    await seedLargerTown(world);
    // The app at the fixed town's "now".
    session = await openBrowser(createApp({ ...world.deps, clock: () => INDICATORS_NOW }));
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("an Arabic-speaking admin opens the report, prints it, and it fits on one A4 page in both languages", async () => {
    const { page } = session;
    const url = `${session.base}/staff/indicators`;
    await signIn(session, url, "hala");
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    expect(await page.textContent("h1")).toBe("مؤشرات سلامة الأطفال");
    await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, "indicators-ar.png"), fullPage: true });

    // The Print button is shown by its script and opens the print dialog (stubbed: there is no printer).
    const print = page.locator("#indicators-print");
    expect(await print.isVisible()).toBe(true);
    // Strings run in the page (this project's TypeScript has no DOM types).
    await page.evaluate("window.printed = 0; window.print = () => { window.printed += 1; };");
    await print.click();
    expect(await page.evaluate("window.printed")).toBe(1);

    for (const locale of ["ar", "en"] as const) {
      await world.db.staff.updateMany({ where: { username: "hala" }, data: { locale } });
      await page.goto(url);
      expect(await page.getAttribute("html", "lang")).toBe(locale);
      // Nothing is wider than the paper, and the navigation and buttons are not printed.
      await page.emulateMedia({ media: "print" });
      await page.setViewportSize({ width: 718, height: 1000 });
      expect(Number(await page.evaluate("document.documentElement.scrollWidth"))).toBeLessThanOrEqual(718);
      expect(await page.locator(".topbar").isVisible()).toBe(false);
      expect(await page.locator(".indicators-actions").isVisible()).toBe(false);
      const pdf = await page.pdf({ preferCSSPageSize: true });
      expect(pagesIn(pdf), locale).toBe(1);
      await page.emulateMedia({ media: "screen" });
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    expect(session.alerted()).toBe(false);
  });
});
