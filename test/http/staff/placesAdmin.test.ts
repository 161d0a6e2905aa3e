import { readFileSync } from "node:fs";
import path from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolate } from "../../../src/http/staff/format.js";
import { onPlacesChanged } from "../../../src/services/places/places.js";
import { hire, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";
import { createTestWorld } from "../../support/testApp.js";

const PLACES = "/staff/admin/places";
const AREAS = "/staff/admin/areas";
const SAMPLES = path.join(import.meta.dirname, "../../../samples");

let world: World;
let hala: StaffBrowser;
let rania: StaffBrowser;
const changes: string[] = [];
let stopListening: () => void;

beforeAll(async () => {
  world = await createTestWorld();
  await hire(world, "hala", "rania");
  [hala, rania] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania")]);
  stopListening = onPlacesChanged((m) => changes.push(m));
}, 60_000);
afterAll(async () => {
  stopListening();
  await world.drop();
});

/** Submits an upload form as a browser does (multipart/form-data). */
function upload(browser: StaffBrowser, url: string, file: string | Buffer | null, csrf = browser.csrf) {
  let req = request(world.app)
    .post(url)
    .set({ Cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "X-Forwarded-For": browser.ip, Accept: "text/html" })
    .field("_csrf", csrf);
  if (file !== null) req = req.attach("file", Buffer.from(file), "export.geojson");
  return req;
}

const place = (over: Record<string, string> = {}) => ({
  kind: "school",
  nameAr: "مدرسة الرسمية",
  nameEn: "Public School",
  aliases: "el madrase\nالمدرسة الرسمية\n",
  childRelated: "on",
  latitude: "33.7951",
  longitude: "35.8262",
  ...over,
});

describe("the places and areas admin pages", () => {
  it("are for admins: an agent gets 403 on the pages, the forms and the uploads", async () => {
    for (const url of [PLACES, AREAS]) expect((await rania.get(url)).status).toBe(403);
    expect((await rania.post(PLACES, place())).status).toBe(403);
    expect((await upload(rania, `${PLACES}/import`, readFileSync(path.join(SAMPLES, "qab-elias-places.geojson")))).status).toBe(403);
    expect(await world.db.place.count()).toBe(0);
    expect((await rania.get("/staff")).text).not.toContain(PLACES);
  });

  it("shows the pages to an admin in Arabic, right to left, with the nav link", async () => {
    const res = await hala.get(PLACES);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="ar" dir="rtl">');
    expect(res.text).toContain('aria-current="page">الأماكن</a>');
    expect(res.text).toContain('enctype="multipart/form-data"');
    expect(textOf(res.text)).toContain("لا أماكن بعد");
    expect((await hala.get(AREAS)).status).toBe(200);
  });

  it("refuses forms and uploads without the page's CSRF token", async () => {
    await hala.get(PLACES);
    expect((await hala.post(PLACES, { ...place(), _csrf: "forged" })).status).toBe(403);
    expect((await upload(hala, `${PLACES}/import`, readFileSync(path.join(SAMPLES, "qab-elias-places.geojson")), "forged")).status).toBe(403);
    expect(await world.db.place.count()).toBe(0);
  });

  it("adds, edits and removes a place; a name with markup shows as text; listeners are told", async () => {
    changes.length = 0;
    await hala.get(PLACES);
    const added = await hala.post(PLACES, place({ nameEn: "<script>alert(1)</script>" }));
    expect(added.status).toBe(303);
    const list = await hala.follow(added);
    expect(textOf(list.text)).toContain("أُضيف المكان.");
    expect(list.text).not.toContain("<script>alert(1)</script>");
    expect(list.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const row = await world.db.place.findFirstOrThrow();
    expect(row).toMatchObject({ kind: "school", childRelated: true, latitude: 33.7951, longitude: 35.8262, source: "manual", aliases: JSON.stringify(["el madrase", "المدرسة الرسمية"]) });

    await hala.get(`${PLACES}/${row.id}`);
    const edited = await hala.post(`${PLACES}/${row.id}`, place({ nameEn: "Qab Elias Public School", childRelated: "" }));
    expect(edited.status).toBe(303);
    expect(await world.db.place.findUniqueOrThrow({ where: { id: row.id } })).toMatchObject({ nameEn: "Qab Elias Public School", childRelated: false });

    const removed = await hala.post(`${PLACES}/${row.id}/delete`);
    expect(removed.status).toBe(303);
    expect(await world.db.place.count()).toBe(0);
    expect(changes).toEqual(["qab-elias", "qab-elias", "qab-elias"]);
  });

  it("refuses swapped coordinates and a missing name with a message", async () => {
    await hala.get(PLACES);
    const res = await hala.follow(await hala.post(PLACES, place({ latitude: "35.8262", longitude: "33.7951", nameAr: "" })));
    const text = textOf(res.text);
    expect(text).toContain("يبدو أن خط العرض وخط الطول معكوسان");
    expect(text).toContain("أدخل الاسم بالعربية");
    expect(await world.db.place.count()).toBe(0);
  });

  it("imports the sample files and shows the counts; edits an area's child population", async () => {
    await hala.get(PLACES);
    const places = await upload(hala, `${PLACES}/import`, readFileSync(path.join(SAMPLES, "qab-elias-places.geojson")));
    expect(places.status, places.text).toBe(200);
    expect(textOf(places.text)).toContain("أُنشئ 12 وحُدّث 0.");
    expect(textOf(places.text)).toContain("جامع العمري");
    expect(textOf(places.text)).toContain("jeme3 el 3omari");

    await hala.get(AREAS);
    const areas = await upload(hala, `${AREAS}/import`, readFileSync(path.join(SAMPLES, "qab-elias-areas.geojson")));
    expect(areas.status).toBe(200);
    expect(textOf(areas.text)).toContain("وادي الدلم");
    const area = await world.db.area.findFirstOrThrow({ where: { nameEn: "Wadi al-Delm" } });
    const saved = await hala.post(`${AREAS}/${area.id}`, { childPopulation: "1200" });
    expect(saved.status).toBe(303);
    expect((await world.db.area.findUniqueOrThrow({ where: { id: area.id } })).childPopulation).toBe(1200);
    const refused = await hala.follow(await hala.post(`${AREAS}/${area.id}`, { childPopulation: "-3" }));
    expect(textOf(refused.text)).toContain("عدد الأطفال رقم صحيح");
    expect((await world.db.area.findUniqueOrThrow({ where: { id: area.id } })).childPopulation).toBe(1200);
    expect((await hala.post(`${AREAS}/${area.id}/delete`)).status).toBe(303);
    expect(await world.db.area.count()).toBe(3);
  });

  it("lists an upload's errors by feature number, in English for an English admin, and writes nothing", async () => {
    await world.db.staff.updateMany({ where: { username: "hala" }, data: { locale: "en" } });
    try {
      const before = await world.db.place.count();
      await hala.get(PLACES);
      const file = JSON.stringify({
        type: "FeatureCollection",
        features: [
          { type: "Feature", properties: { name: "<b>fine</b>" }, geometry: { type: "Point", coordinates: [35.82, 33.79] } },
          { type: "Feature", properties: { name: "swapped" }, geometry: { type: "Point", coordinates: [33.79, 35.82] } },
          { type: "Feature", properties: { name: "road" }, geometry: { type: "LineString", coordinates: [[35.82, 33.79], [35.83, 33.79]] } },
        ],
      });
      const res = await upload(hala, `${PLACES}/import`, file);
      expect(res.status).toBe(422);
      expect(res.text).toContain('<tr class="import-error"><td>2</td><td>latitude and longitude look swapped (GeoJSON is [longitude, latitude])</td></tr>');
      expect(res.text).toContain(`<tr class="import-error"><td>3</td><td>a ${isolate("LineString")}; this layer takes ${isolate("Point, Polygon, MultiPolygon")}</td></tr>`);
      expect(textOf(res.text)).toContain("The file has 2 errors:");
      expect(await world.db.place.count()).toBe(before);

      const notJson = await upload(hala, `${AREAS}/import`, "{ nope");
      expect(notJson.status).toBe(422);
      // Where the parser stopped, in words; its own message only behind "Details".
      expect(textOf(notJson.text)).toContain("the file is not JSON (line 1, column 3)");
      expect(textOf(notJson.text)).toMatch(/<details class="tech-details"><summary>Details<\/summary><pre class="sms-text" dir="ltr">[^<]*JSON[^<]*<\/pre><\/details>/);
      const none = await upload(hala, `${AREAS}/import`, null);
      expect(none.status).toBe(400);
      expect(textOf(none.text)).toContain("Choose a GeoJSON file to import.");
    } finally {
      await world.db.staff.updateMany({ where: { username: "hala" }, data: { locale: "ar" } });
    }
  });
});
