import { check } from "@placemarkio/check-geojson";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
import { seedDemoPlaces } from "../../../src/services/seed.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const MAP = "/staff/map";
const HOSTILE = '<img src=x onerror="alert(1)">';
const TILES = "https://tiles.example.org/{z}/{x}/{y}.png";

let world: World;
let hala: StaffBrowser; // admin, Arabic
let rania: StaffBrowser; // agent of public works (roads), Arabic
let karim: StaffBrowser; // agent of electricity and water, English
const refs = { roads: 30001, water: 30002, resolved: 30003, noPoint: 30004, hostile: 30005 };
let areaId = 0;

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "hala", "rania", "karim");
  await seedDemoPlaces(world.db, MUNICIPALITY, new Date());
  const db = world.db;
  const school = await db.place.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, nameEn: "Qab Elias Public School" } });
  const centre = await db.area.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, nameEn: "Qab Elias Centre" } });
  areaId = centre.id;
  const hostileArea = await db.area.create({
    data: { municipalityId: MUNICIPALITY, nameAr: HOSTILE, nameEn: HOSTILE, geometry: JSON.stringify({ type: "Polygon", coordinates: [[[35.83, 33.78], [35.84, 33.78], [35.84, 33.79], [35.83, 33.78]]] }) },
  });
  const hostilePlace = await db.place.create({ data: { municipalityId: MUNICIPALITY, kind: "landmark", nameAr: HOSTILE, nameEn: HOSTILE, latitude: 33.785, longitude: 35.835 } });
  const residentId = (await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: freshPhone(), locale: "ar" } })).id;
  const category = async (code: string) => (await db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } })).id;
  const ticket = async (reference: number, fields: { category: string; department: string; status?: string; point?: [number, number]; createdAt: string; extra?: object }) =>
    db.ticket.create({
      data: {
        municipalityId: MUNICIPALITY,
        reference,
        residentId,
        channel: "sms",
        locale: "ar",
        description: `request ${reference}`,
        categoryId: await category(fields.category),
        department: fields.department,
        status: fields.status ?? "new",
        latitude: fields.point?.[0] ?? null,
        longitude: fields.point?.[1] ?? null,
        createdAt: new Date(fields.createdAt),
        ...fields.extra,
      },
    });
  await ticket(refs.roads, { category: "roads", department: "public_works", point: [33.7934, 35.8237], createdAt: "2026-03-10T10:00:00Z", extra: { areaId: centre.id } });
  await ticket(refs.water, {
    category: "water",
    department: "water",
    status: "in_progress",
    point: [school.latitude, school.longitude],
    createdAt: "2026-03-12T10:00:00Z",
    extra: { childRelated: true, locationApproximate: true, placeId: school.id, childZonePlaceId: school.id, childZoneMetres: 40, areaId: centre.id },
  });
  await ticket(refs.resolved, { category: "roads", department: "public_works", status: "resolved", point: [33.7962, 35.8218], createdAt: "2026-02-01T10:00:00Z" });
  await ticket(refs.noPoint, { category: "roads", department: "public_works", createdAt: "2026-03-11T10:00:00Z" });
  await ticket(refs.hostile, { category: "roads", department: "public_works", point: [33.785, 35.835], createdAt: "2026-03-13T10:00:00Z", extra: { placeId: hostilePlace.id, areaId: hostileArea.id } });
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

/** A GeoJSON route as the page's script fetches it; checks it is valid GeoJSON served as such. */
async function geojson(browser: StaffBrowser, path: string) {
  const res = await browser.get(path, { Accept: "application/json, application/geo+json" });
  expect(res.status, res.text).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/geo\+json/);
  expect(() => check(res.text)).not.toThrow();
  return { res, body: JSON.parse(res.text) as { features: Array<{ properties: Record<string, unknown> }> } };
}
const references = (body: { features: Array<{ properties: Record<string, unknown> }> }) => body.features.map((f) => f.properties.reference).sort();

/** The value of a data-* attribute of the map element, as the browser reads it. */
function mapData(page: string, name: string): string {
  const value = new RegExp(`<div id="staff-map"[^>]*\\sdata-${name}="([^"]*)"`).exec(page)?.[1];
  if (value === undefined) throw new Error(`no data-${name} on the map`);
  return textOf(value);
}

describe("the staff map page", () => {
  it("shows an Arabic-speaking admin the map, right to left, with the filters, legend and downloads", async () => {
    const res = await hala.get(MAP);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="ar" dir="rtl">');
    expect(res.text).toContain('<a href="/staff/map" class="active" aria-current="page">الخريطة</a>');
    const text = textOf(res.text);
    // Open requests with a point: roads, water (child-related), the hostile one; not the resolved one, not the one without a point.
    expect(text).toContain("3 طلبات على الخريطة");
    expect(text).toContain("طلب واحد ليس له موقع لا يظهر على الخريطة"); // noPoint, which the queue lists
    for (const name of ["status", "category", "department", "childRelated", "area", "from", "to"]) expect(res.text).toContain(`name="${name}"`);
    expect(res.text).toContain('<form method="get" action="/staff/map"');
    expect(res.text).toContain('<details class="card map-filters" id="map-filters" open>');
    expect(res.text).toMatch(/<div id="staff-map" class="map map-large" role="region"/);
    expect(mapData(res.text, "requests")).toBe("/staff/map/requests.geojson?status=open");
    expect(mapData(res.text, "dir")).toBe("rtl");
    expect(JSON.parse(mapData(res.text, "labels"))).toMatchObject({ intl: "ar-LB-u-nu-latn", status: { in_progress: "قيد المعالجة" }, child: { zone: "يخص الأطفال: على بُعد {metres} م من {place}" } });
    expect(text).toContain("دليل الخريطة");
    expect(res.text).toContain('href="/staff/map/requests.geojson?status=open&amp;download=1" download');
    expect(res.text).toContain('href="/staff/map/places.geojson?download=1" download');
    expect(res.text).toContain('href="/staff/map/areas.geojson?download=1" download');
    for (const asset of ["vendor/leaflet/leaflet.js", "vendor/markercluster/leaflet.markercluster.js", "mapBase.js", "map.js"]) expect(res.text).toContain(`<script src="/staff/assets/${asset}" defer></script>`);
    expect(res.text).toContain('<link rel="stylesheet" href="/staff/assets/map.css">');
  });

  it("reads in English for an English-speaking agent, who can pick only his own departments", async () => {
    const res = await karim.get(MAP);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="en" dir="ltr">');
    const text = textOf(res.text);
    expect(text).toContain("1 request on the map");
    expect(text).not.toContain("without a location"); // karim's one request has a point
    const departments = /<select id="f-department" name="department"[^>]*>(.*?)<\/select>/s.exec(res.text)?.[1] ?? "";
    expect(departments).toContain('value="water"');
    expect(departments).toContain('value="electricity"');
    expect(departments).not.toContain('value="public_works"');
    expect(JSON.parse(mapData(res.text, "labels"))).toMatchObject({ intl: "en-GB", open: "Open the request" });
  });

  it("carries the filters to the count, the map's data and the download", async () => {
    const res = await hala.get(`${MAP}?status=all&category=roads&from=2026-02-01&to=2026-03-12&area=&childRelated=`);
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toContain("طلبان على الخريطة"); // roads and resolved (the hostile one is after the 12th)
    const url = mapData(res.text, "requests");
    expect(url).toBe("/staff/map/requests.geojson?status=all&category=roads&from=2026-02-01&to=2026-03-12");
    expect(res.text).toContain(`href="${url.replace(/&/g, "&amp;")}&amp;download=1"`);
    expect(references((await geojson(hala, url)).body)).toEqual([refs.roads, refs.resolved]);
    expect(res.text).toMatch(/<option value="roads" selected>/);
    expect(res.text).toContain('value="2026-03-12"');

    const child = await hala.get(`${MAP}?childRelated=true&area=${areaId}`);
    expect(textOf(child.text)).toContain("طلب واحد على الخريطة");
    expect(textOf(child.text)).not.toContain("ليس له موقع"); // an area holds located requests only
  });

  it.each([
    ["from=yesterday", "من تاريخ: أدخل تاريخاً مثل 2026-03-14."],
    ["to=2026-02-30", "حتى تاريخ: أدخل تاريخاً مثل 2026-03-14."],
    ["from=2026-03-10&to=2026-03-01", "تاريخ البداية بعد تاريخ النهاية."],
    ["status=lost", "الحالة: اختر واحدة من القائمة."],
    ["area=abc", "الحي: اختر واحداً من القائمة."],
    ["childRelated=maybe", "يخص الأطفال: اختر نعم أو لا أو الكل."],
    ["category=DROP%20TABLE", "الفئة: اختر واحدة من القائمة."],
  ])("a bad filter (%s) is a 400 page that says which, with the form to correct it", async (query, message) => {
    const res = await hala.get(`${MAP}?${query}`);
    expect(res.status).toBe(400);
    const text = textOf(res.text);
    expect(text).toContain("تعذّرت قراءة هذه المرشحات");
    expect(text).toContain(message);
    expect(res.text).toContain('<form method="get" action="/staff/map"');
    expect(res.text).not.toContain('id="staff-map"');
    const data = await hala.get(`${MAP}/requests.geojson?${query}`, { Accept: "application/json" });
    expect(data.status).toBe(400);
    expect(data.body).toMatchObject({ error: expect.stringMatching(/^Bad filter: /) });
  });

  it("sends the signed-out to the sign-in page, and scripts a 401", async () => {
    const page = await request(world.app).get(`${MAP}?status=all`).set("Accept", "text/html");
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/staff/login?next=${encodeURIComponent(`${MAP}?status=all`)}`);
    for (const path of ["requests", "places", "areas"]) {
      const data = await request(world.app).get(`${MAP}/${path}.geojson`).set("Accept", "application/json");
      expect(data.status).toBe(401);
    }
  });
});

describe("the map's GeoJSON with the staff session", () => {
  it("an agent of public works (roads) never gets the water department's request; an admin gets both", async () => {
    const all = "?status=all";
    expect(references((await geojson(rania, `${MAP}/requests.geojson${all}`)).body)).toEqual([refs.roads, refs.resolved, refs.hostile]);
    expect(references((await geojson(karim, `${MAP}/requests.geojson${all}`)).body)).toEqual([refs.water]);
    expect(references((await geojson(hala, `${MAP}/requests.geojson${all}`)).body)).toEqual([refs.roads, refs.water, refs.resolved, refs.hostile]);
    // Asking for another department's requests gives nothing, not them.
    expect(references((await geojson(rania, `${MAP}/requests.geojson?status=all&department=water`)).body)).toEqual([]);
    expect(references((await geojson(rania, `${MAP}/requests.geojson?status=all&category=water`)).body)).toEqual([]);
    const page = await rania.get(`${MAP}?department=water`);
    expect(textOf(page.text)).toContain("لا طلبات على الخريطة");
  });

  it("says why a request is child-related, with names in the staff member's language", async () => {
    const arabic = (await geojson(hala, `${MAP}/requests.geojson?childRelated=true`)).body.features;
    expect(arabic.map((f) => f.properties)).toEqual([
      expect.objectContaining({
        reference: refs.water,
        status: "in_progress",
        child_reason: { kind: "zone", place: "مدرسة قب الياس الرسمية", metres: 40 },
        near_place: "مدرسة قب الياس الرسمية",
        area: "وسط قب الياس",
        approximate: true,
      }),
    ]);
    const english = (await geojson(karim, `${MAP}/requests.geojson`)).body.features;
    expect(english[0]?.properties).toMatchObject({ near_place: "Qab Elias Public School", area: "Qab Elias Centre" });
  });

  it("serves places and areas; a file to save only with download=1", async () => {
    const places = await geojson(rania, `${MAP}/places.geojson`);
    expect(places.body.features).toHaveLength(13);
    expect(places.res.headers["content-disposition"]).toBeUndefined();
    const areas = await geojson(rania, `${MAP}/areas.geojson`);
    expect(areas.body.features).toHaveLength(5);
    for (const [path, name] of [
      [`${MAP}/requests.geojson?status=open&download=1`, "requests"],
      [`${MAP}/places.geojson?download=1`, "places"],
      [`${MAP}/areas.geojson?download=1`, "areas"],
    ] as const) {
      const res = await hala.get(path);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/geo\+json/);
      expect(res.headers["content-disposition"]).toBe(`attachment; filename=${name}.geojson`);
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(() => check(res.text)).not.toThrow();
    }
  });

  it("a name with markup is never markup: escaped in the page, data in the GeoJSON", async () => {
    const page = await hala.get(MAP);
    expect(page.text).not.toContain("<img");
    expect(page.text).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"); // the area filter's option
    const places = await geojson(hala, `${MAP}/places.geojson`);
    expect(places.res.headers["x-content-type-options"]).toBe("nosniff");
    expect(places.body.features.map((f) => f.properties.name_en)).toContain(HOSTILE);
    const requests = await geojson(hala, `${MAP}/requests.geojson`);
    expect(requests.body.features.find((f) => f.properties.reference === refs.hostile)?.properties).toMatchObject({ near_place: HOSTILE, area: HOSTILE });
  });
});

describe("the map's assets and the Content-Security-Policy", () => {
  it.each([
    ["vendor/leaflet/leaflet.js", /javascript/],
    ["vendor/leaflet/leaflet.css", /css/],
    ["vendor/leaflet/images/marker-icon.png", /png/],
    ["vendor/markercluster/leaflet.markercluster.js", /javascript/],
    ["vendor/markercluster/MarkerCluster.Default.css", /css/],
    ["mapBase.js", /javascript/],
    ["map.js", /javascript/],
    ["placePicker.js", /javascript/],
    ["map.css", /css/],
  ])("serves %s from the project itself", async (asset, type) => {
    const res = await request(world.app).get(`/staff/assets/${asset}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(type);
  });

  it("allows images from the configured tile server, and no inline script", async () => {
    const app = createApp({ ...world.deps, map: { tileUrl: TILES, tileAttribution: "© Example <b>tiles</b>", childZoneMetres: 150 } });
    const browser = await signedIn(app, "hala");
    const res = await browser.get(MAP);
    expect(res.status).toBe(200);
    const csp = res.headers["content-security-policy"] ?? "";
    const directive = (name: string) => csp.split(";").map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? "";
    expect(directive("img-src").split(" ")).toContain("https://tiles.example.org");
    expect(directive("script-src")).toBe("script-src 'self'");
    expect(directive("script-src-attr")).toBe("script-src-attr 'none'");
    expect(csp).not.toContain("unpkg");
    // Every script is a file of ours: none inline, none from elsewhere.
    const scripts = [...res.text.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(3);
    for (const tag of scripts) expect(tag).toMatch(/^<script src="\/staff\/assets\/[^"]+" defer>$/);
    expect(res.text).not.toMatch(/<[^>]*\son[a-z]+=/i); // no event handler attributes
    expect(mapData(res.text, "tiles")).toBe(TILES);
    expect(mapData(res.text, "attribution")).toBe("© Example <b>tiles</b>");
  });
});

describe("the places admin's map to place a point", () => {
  it("the add and edit forms carry the picker map and keep plain latitude and longitude fields", async () => {
    const list = await hala.get("/staff/admin/places");
    expect(list.status).toBe(200);
    const form = /<form method="post" action="\/staff\/admin\/places" class="form-grid">(.*?)<\/form>/s.exec(list.text)?.[1] ?? "";
    expect(form).toMatch(/<div id="place-picker" class="map map-picker"/);
    expect(form).toContain('data-places="/staff/map/places.geojson"');
    expect(form).toContain('<input type="text" name="latitude" value="" required dir="ltr">');
    expect(form).toContain('<input type="text" name="longitude" value="" required dir="ltr">');
    expect(textOf(list.text)).toContain("انقر على الخريطة (أو اسحب العلامة) لملء خطّي العرض والطول");
    expect(list.text).toContain('<script src="/staff/assets/placePicker.js" defer></script>');

    const school = await world.db.place.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, nameEn: "Qab Elias Public School" } });
    const edit = await hala.get(`/staff/admin/places/${school.id}`);
    expect(edit.status).toBe(200);
    expect(edit.text).toMatch(/<div id="place-picker" class="map map-picker"/);
    expect(edit.text).toContain('name="latitude" value="33.795100"');
    expect(edit.text).toContain('<script src="/staff/assets/placePicker.js" defer></script>');
  });
});
