import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/createApp.js";
import { seedDemoPlaces } from "../../src/services/seed.js";
import { haveChromium, openBrowser, signIn, type BrowserSession } from "../support/browser.js";
import { newPhone, residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

/** The README shows this one (as survey-results-ar.png). */
const DOCS_SCREENSHOTS = path.join(import.meta.dirname, "../../docs/screenshots");
const HOSTILE = '<img src=x onerror="alert(1)">';
/** A tile server the test makes unreachable (the tests have no network anyway). */
const TILES = "https://tiles.baladiya.test/{z}/{x}/{y}.png";
/** waiting_staff's colour in mapBase.js: only the request named after the hostile place has it. */
const WAITING_COLOUR = "#c26a00";

/**
 * The town as the demo shows it: the sample places and areas, two SMS requests located by the
 * landmark the resident typed (one at the public school, so child-related), and requests with
 * pins around the town, two of them a few metres apart (a cluster), one resolved (not shown on
 * the default "open" map), one next to a place whose name is markup.
 */
async function seed(world: World) {
  await seedDemoPlaces(world.db, MUNICIPALITY, new Date());
  const db = world.db;
  const hostile = await db.place.create({ data: { municipalityId: MUNICIPALITY, kind: "landmark", nameAr: HOSTILE, nameEn: HOSTILE, latitude: 33.787, longitude: 35.82 } });
  const school = await residentFiles(world, { lines: ["في جورة كبيرة بالطريق العام", "1", "قدام مدرسة قب الياس الرسمية", "1"] });
  const mosque = await residentFiles(world);
  const residentId = (await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: newPhone(), locale: "ar" } })).id;
  const category = async (code: string) => (await db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } })).id;
  let reference = 20000;
  const pinned = async (code: string, department: string, status: string, [latitude, longitude]: [number, number], extra: object = {}) =>
    (
      await db.ticket.create({
        data: { municipalityId: MUNICIPALITY, reference: ++reference, residentId, channel: "whatsapp", locale: "ar", description: "—", categoryId: await category(code), department, status, latitude, longitude, ...extra },
      })
    ).reference;
  await pinned("parks_playgrounds", "public_works", "new", [33.799, 35.817], { childRelated: true });
  await pinned("roads", "public_works", "in_progress", [33.7895, 35.825]);
  await pinned("lighting", "electricity", "new", [33.7914, 35.829]);
  const nearHostile = await pinned("waste", "sanitation", "waiting_staff", [33.787, 35.82], { placeId: hostile.id, locationApproximate: true });
  await pinned("water", "water", "new", [33.793, 35.82]);
  await pinned("water", "water", "in_progress", [33.79305, 35.82005], { childRelated: true });
  await pinned("roads", "public_works", "resolved", [33.796, 35.824]);
  return { school: school.reference, mosque: mosque.reference, nearHostile, openLocated: 8 };
}

/** How many requests the map shows: single markers plus the numbers on the clusters. */
async function requestsOnMap(session: BrowserSession): Promise<number> {
  const { page } = session;
  const single = await page.locator("#staff-map path.map-request").count();
  const clusters = await page.locator("#staff-map .marker-cluster span").allTextContents();
  return single + clusters.reduce((sum, n) => sum + Number(n), 0);
}

describe.skipIf(!haveChromium)("the staff map in a real browser, in Arabic, without tiles", () => {
  let world: World;
  let session: BrowserSession;
  let refs: Awaited<ReturnType<typeof seed>>;

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "hala", role: "admin", locale: "ar" });
    refs = await seed(world);
    session = await openBrowser(world.app);
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("an Arabic-speaking admin sees the areas, the places and the open requests on a plain background", async () => {
    const { page } = session;
    await signIn(session, `${session.base}/staff/map`, "hala");
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    expect(await page.getAttribute("#staff-map", "data-tiles")).toBe("");
    await page.waitForSelector("#staff-map[data-ready]");
    expect(await page.getAttribute("#staff-map", "data-ready")).toBe(String(refs.openLocated));
    expect(await page.locator("#staff-map path.map-area").count()).toBe(4);
    expect(await page.locator("#staff-map path.map-place").count()).toBe(13);
    expect(await page.locator("#staff-map path.map-place-child").count()).toBe(5);
    await expect.poll(() => requestsOnMap(session)).toBe(refs.openLocated);
    // The two requests a few metres apart are one cluster, marked: one of them is child-related.
    expect(await page.locator("#staff-map .marker-cluster.map-cluster-child span").allTextContents()).toEqual(["2"]);
    expect(await page.locator("#staff-map .leaflet-tile").count()).toBe(0);
    expect(await page.textContent("#map-count")).toContain("8 طلبات على الخريطة");
    // The legend's swatches are painted in the map's colours.
    expect(await page.getAttribute('.map-legend [data-status="new"]', "style")).toBe("background-color: rgb(29, 111, 184);");
    // The layer control names the three layers.
    expect(await page.locator(".leaflet-control-layers-overlays label").allTextContents()).toEqual([" الطلبات", " الأماكن", " الأحياء"].map((s) => expect.stringContaining(s.trim())));
    await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, "map-ar.png"), fullPage: true });
  });

  it("a click on the request at the school opens its summary: reference, why child-related, a link", async () => {
    const { page } = session;
    await page.locator("#staff-map path.map-request-child.map-request-approximate").first().click();
    const popup = page.locator("#staff-map .leaflet-popup-content");
    await expect.poll(() => popup.count()).toBe(1);
    const text = (await popup.textContent()) ?? "";
    expect(text).toContain(`#${refs.school}`);
    expect(text).toContain("طرقات وحفر");
    expect(text).toContain("يخص الأطفال: عند مدرسة قب الياس الرسمية"); // its point is the school's own
    expect(text).toContain("موقع تقريبي");
    expect(await popup.locator(`a[href="/staff/tickets/${refs.school}"]`).count()).toBe(2);
    expect(await popup.locator(".map-popup").getAttribute("dir")).toBe("rtl");
  });

  it("a place whose name is markup shows as text in the popup, and nothing runs", async () => {
    const { page } = session;
    await page.keyboard.press("Escape");
    await page.locator(`#staff-map path.map-request[fill="${WAITING_COLOUR}"]`).click();
    const popup = page.locator("#staff-map .leaflet-popup-content");
    await expect.poll(async () => (await popup.textContent()) ?? "").toContain(`#${refs.nearHostile}`);
    expect(await popup.textContent()).toContain(`المَعلَم: ${HOSTILE}`);
    expect(await popup.locator("img").count()).toBe(0);
    expect(session.alerted()).toBe(false);
  });

  it("the filters reach the map: all statuses add the resolved request", async () => {
    const { page } = session;
    await page.selectOption("#f-status", "all");
    await Promise.all([page.waitForURL(/status=all/), page.click('form[action="/staff/map"] button[type="submit"]')]);
    await page.waitForSelector("#staff-map[data-ready]");
    await expect.poll(() => requestsOnMap(session)).toBe(refs.openLocated + 1);
    expect(await page.getAttribute('a[href*="requests.geojson"][download]', "href")).toBe("/staff/map/requests.geojson?status=all&download=1");
  });

  it("in the places admin, a click on the map fills in the latitude and longitude; the place is saved there", async () => {
    const { page } = session;
    await page.goto(`${session.base}/staff/admin/places`);
    await page.waitForSelector('#place-picker[data-ready="true"]');
    const latitude = page.locator('form:has(#place-picker) input[name="latitude"]');
    const longitude = page.locator('form:has(#place-picker) input[name="longitude"]');
    expect(await latitude.inputValue()).toBe("");
    const box = (await page.locator("#place-picker").boundingBox())!;
    await page.locator("#place-picker").click({ position: { x: box.width * 0.3, y: box.height * 0.6 } });
    await expect.poll(() => latitude.inputValue()).toMatch(/^33\.\d{6}$/);
    expect(await longitude.inputValue()).toMatch(/^35\.\d{6}$/);
    expect(await page.locator("#place-picker .leaflet-marker-icon").count()).toBe(1);

    // Typing coordinates moves the marker.
    const before = await page.locator("#place-picker .leaflet-marker-icon").boundingBox();
    await latitude.fill("33.7990");
    await longitude.fill("35.8170");
    await expect.poll(async () => (await page.locator("#place-picker .leaflet-marker-icon").boundingBox())?.x).not.toBe(before?.x);

    // A click again, and the form saves the point the map chose.
    await page.locator("#place-picker").click({ position: { x: box.width * 0.6, y: box.height * 0.4 } });
    await expect.poll(() => latitude.inputValue()).not.toBe("33.7990");
    const chosen = { latitude: Number(await latitude.inputValue()), longitude: Number(await longitude.inputValue()) };
    await page.fill('form:has(#place-picker) input[name="nameAr"]', "فرن الضيعة");
    await page.fill('form:has(#place-picker) input[name="nameEn"]', "Village bakery");
    await Promise.all([page.waitForURL(`${session.base}/staff/admin/places`), page.click('form:has(#place-picker) button[type="submit"]')]);
    const saved = await world.db.place.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, nameEn: "Village bakery" } });
    expect(saved).toMatchObject(chosen);
  });
});

describe.skipIf(!haveChromium)("the staff map when the tile server cannot be reached", () => {
  let world: World;
  let session: BrowserSession;
  let refs: Awaited<ReturnType<typeof seed>>;
  let tileRequests = 0;

  beforeAll(async () => {
    world = await createTestWorld();
    await staffMember(world, { username: "hala", role: "admin", locale: "ar" });
    refs = await seed(world);
    session = await openBrowser(createApp({ ...world.deps, map: { tileUrl: TILES, tileAttribution: "© OpenStreetMap contributors", childZoneMetres: 150 } }));
    await session.page.route("https://tiles.baladiya.test/**", async (route) => {
      tileRequests += 1;
      await route.abort("internetdisconnected");
    });
  });

  afterAll(async () => {
    await session?.close();
    await world?.drop();
  });

  it("says so, and still shows the areas, places and requests", async () => {
    const { page } = session;
    await signIn(session, `${session.base}/staff/map`, "hala");
    expect(await page.getAttribute("#staff-map", "data-tiles")).toBe(TILES);
    const note = page.locator("#staff-map .map-offline-note");
    await note.waitFor();
    expect(await note.textContent()).toBe("تعذّر تحميل خلفية الخريطة: تظهر الأحياء والأماكن والطلبات على خلفية بسيطة.");
    expect(tileRequests).toBeGreaterThan(0);
    await page.waitForSelector("#staff-map[data-ready]");
    expect(await page.locator("#staff-map path.map-area").count()).toBe(4);
    expect(await page.locator("#staff-map path.map-place").count()).toBe(13);
    await expect.poll(() => requestsOnMap(session)).toBe(refs.openLocated);
    expect(await page.textContent("#staff-map .leaflet-control-attribution")).toContain("© OpenStreetMap contributors");
  });
});
