import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePoint } from "../../../src/http/staff/ticketActions.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { freshPhone, hire, residentFiles, signedIn, StaffBrowser, textOf, type World } from "./staffBrowser.js";

const SCHOOL = { latitude: 33.7951, longitude: 35.8262 };
/** 60 m north of the school, in the town centre. */
const NEAR_SCHOOL = { latitude: 33.79564, longitude: 35.8262 };
const square = (west: number, south: number, east: number, north: number) =>
  JSON.stringify({ type: "Polygon", coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] });

let world: World;
let hala: StaffBrowser;
let rania: StaffBrowser;
let karim: StaffBrowser;
let ids: { school: number; centre: number };
const refs = { pothole: 0, light: 0, landmark: 0 };

beforeAll(async () => {
  world = await createTestWorld();
  const school = await world.db.place.create({
    data: { kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School", aliases: JSON.stringify(["المدرسة الرسمية"]), childRelated: true, ...SCHOOL },
  });
  const centre = await world.db.area.create({ data: { nameAr: "وسط البلدة", nameEn: "Town Centre", geometry: square(35.82, 33.79, 35.835, 33.799) } });
  ids = { school: school.id, centre: centre.id };
  await hire(world, "hala", "rania", "karim");
  // A pothole at a landmark nobody knows (no point), a street light (electricity), a pothole at the school.
  refs.pothole = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام", "قدام بيت ابو علي");
  refs.light = await residentFiles(world.app, freshPhone(), "The street light is broken on our street", "somewhere on our street");
  refs.landmark = await residentFiles(world.app, freshPhone(), "في جورة كبيرة بالطريق العام", "قدام المدرسة الرسمية");
  [hala, rania, karim] = await Promise.all([signedIn(world.app, "hala"), signedIn(world.app, "rania"), signedIn(world.app, "karim")]);
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const ticketWhere = (reference: number) => ({ municipalityId_reference: { municipalityId: MUNICIPALITY, reference } });
const ticketOf = (reference: number) => world.db.ticket.findUniqueOrThrow({ where: ticketWhere(reference) });
const locationEvents = async (reference: number) => world.db.ticketEvent.count({ where: { ticketId: (await ticketOf(reference)).id, kind: "location_set" } });

/** The map element of a ticket page. */
const mapElement = (page: string) => /<div id="ticket-map"[^>]*><\/div>/.exec(page)?.[0] ?? "";
/** A data attribute of the map element, as the browser reads it (entities decoded), parsed as JSON. */
function mapData(page: string, name: string): unknown {
  const raw = new RegExp(` data-${name}="([^"]*)"`).exec(mapElement(page))?.[1];
  return raw === undefined ? undefined : JSON.parse(textOf(raw));
}

describe("the small map on the ticket page", () => {
  it("a request without a point: the map of the town, the form to set the point open, the map's scripts and styles", async () => {
    const page = await rania.get(`/staff/tickets/${refs.pothole}`);
    expect(page.status).toBe(200);
    const map = mapElement(page.text);
    expect(map).toContain('class="map map-small"');
    expect(map).toContain('data-tiles=""');
    expect(mapData(page.text, "point")).toBeUndefined();
    expect(mapData(page.text, "area")).toBeUndefined();
    expect(mapData(page.text, "labels")).toEqual({ newPoint: "نقطة جديدة: احفظها لتُعتمد" });
    const text = textOf(page.text);
    expect(text).toContain("لا موقع لهذا الطلب بعد.");
    expect(page.text).toContain('<details class="set-point" open>');
    expect(page.text).toContain(`action="/staff/tickets/${refs.pothole}/location"`);
    for (const script of ["vendor/leaflet/leaflet.js", "mapBase.js", "ticketMap.js", "ticket.js"]) expect(page.text).toContain(`<script src="/staff/assets/${script}" defer></script>`);
    expect(page.text).toContain('<link rel="stylesheet" href="/staff/assets/map.css">');
  });

  it("a request at the landmark it named: its point (approximate, child-related), the landmark, the child zone's circle and the area's outline", async () => {
    const page = await rania.get(`/staff/tickets/${refs.landmark}`);
    expect(mapData(page.text, "point")).toEqual({ lat: SCHOOL.latitude, lng: SCHOOL.longitude, status: "new", childRelated: true, approximate: true, label: `الطلب #${refs.landmark}` });
    expect(mapData(page.text, "place")).toEqual({ lat: SCHOOL.latitude, lng: SCHOOL.longitude, name: "مدرسة قب الياس الرسمية", kind: "school", childRelated: true });
    expect(mapData(page.text, "zone")).toMatchObject({ name: "مدرسة قب الياس الرسمية", radius: 150, label: "منطقة أطفال: 150 م حول مدرسة قب الياس الرسمية" });
    expect(mapData(page.text, "area")).toEqual({ name: "وسط البلدة", geometry: JSON.parse(square(35.82, 33.79, 35.835, 33.799)) });
    // The text lines stay: the map adds to them.
    expect(page.text).toContain("موقع تقريبي (من المَعلَم الذي ذكره المواطن)");
    expect(page.text).toContain("عند <bdi>مدرسة قب الياس الرسمية</bdi>");
    // A located request's form is folded, and holds its point.
    expect(page.text).toContain('<details class="set-point">');
    expect(page.text).toContain('value="33.795100"');
  });

  it("Karim reads it in English", async () => {
    const page = textOf((await karim.get(`/staff/tickets/${refs.light}`)).text);
    expect(page).toContain("On the map");
    expect(page).toContain("Set the point");
    expect(page).toContain("This request has no point yet.");
  });
});

describe("setting the point by hand", () => {
  it("Rania sets the point near the school: the area, the child zone, child-related, an event, and the history says so", async () => {
    expect(await ticketOf(refs.pothole)).toMatchObject({ latitude: null, childRelated: false });
    const res = await rania.post(`/staff/tickets/${refs.pothole}/location`, { latitude: String(NEAR_SCHOOL.latitude), longitude: String(NEAR_SCHOOL.longitude) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/staff/tickets/${refs.pothole}`);
    expect(await ticketOf(refs.pothole)).toMatchObject({
      ...NEAR_SCHOOL,
      locationApproximate: false,
      placeId: null,
      areaId: ids.centre,
      childZonePlaceId: ids.school,
      childZoneMetres: 60,
      childRelated: true,
    });
    expect(await locationEvents(refs.pothole)).toBe(1);

    const page = await rania.follow(res);
    const text = textOf(page.text);
    expect(text).toContain("تم تحديد موقع الطلب، في وسط البلدة.");
    expect(text).toContain("الموقع على بُعد 60 م من مدرسة قب الياس الرسمية: أصبح الطلب يخصّ الأطفال.");
    // The history: who, the new point, there was none before, the area, the zone.
    expect(text).toContain('حُدّد الموقع: <bdi dir="ltr" class="coords">33.79564, 35.82620</bdi>');
    expect(text).toContain("لم يكن له موقع قبلها");
    expect(text).toContain("الحي: <bdi>وسط البلدة</bdi>");
    expect(text).toContain("على بُعد 60 م من <bdi>مدرسة قب الياس الرسمية</bdi> · أصبح يخصّ الأطفال");
    expect(page.text).toMatch(/<li class="event event-location_set">\s*<div class="event-meta"><strong>Rania<\/strong>/);
    expect(mapData(page.text, "point")).toMatchObject({ lat: NEAR_SCHOOL.latitude, lng: NEAR_SCHOOL.longitude, childRelated: true, approximate: false });
    expect(mapData(page.text, "zone")).toMatchObject({ lat: SCHOOL.latitude, lng: SCHOOL.longitude, radius: 150 });
  });

  it("the same point again: nothing changed, nothing recorded", async () => {
    const before = await ticketOf(refs.pothole);
    const res = await rania.post(`/staff/tickets/${refs.pothole}/location`, { latitude: "33.795640", longitude: "35.826200" });
    expect(res.status).toBe(303);
    expect(textOf((await rania.follow(res)).text)).toContain("لم يتغيّر شيء: الطلب في هذا الموقع أصلاً.");
    expect(await ticketOf(refs.pothole)).toEqual(before);
    expect(await locationEvents(refs.pothole)).toBe(1);
  });

  it.each([
    ["outside Lebanon", { latitude: "48.8566", longitude: "2.3522" }, "هذه النقطة خارج لبنان: لم يتغيّر شيء."],
    ["swapped", { latitude: "35.8262", longitude: "33.7951" }, "يبدو أن خط العرض وخط الطول معكوسان"],
    ["not numbers", { latitude: "north of the school", longitude: "35.8" }, "اكتب خط العرض وخط الطول أرقاماً عشرية"],
    ["empty", { latitude: "", longitude: "" }, "اكتب خط العرض وخط الطول أرقاماً عشرية"],
  ])("%s: a clear error, and nothing changes", async (_what, form, error) => {
    const before = await ticketOf(refs.pothole);
    const res = await rania.post(`/staff/tickets/${refs.pothole}/location`, form);
    expect(res.status).toBe(303);
    const page = await rania.follow(res);
    expect(page.text).toContain("flash-error");
    expect(textOf(page.text)).toContain(error);
    expect(await ticketOf(refs.pothole)).toEqual(before);
    expect(await locationEvents(refs.pothole)).toBe(1);
  });

  it("a point pasted as one pair, or typed in Arabic digits, is read", async () => {
    const res = await hala.post(`/staff/tickets/${refs.landmark}/location`, { latitude: "33.7934, 35.8237", longitude: "" });
    expect(textOf((await hala.follow(res)).text)).toContain("تم تحديد موقع الطلب، في وسط البلدة.");
    expect(await ticketOf(refs.landmark)).toMatchObject({ latitude: 33.7934, longitude: 35.8237, locationApproximate: false, placeId: null, childZonePlaceId: null, childRelated: true });
    // The history says where it was: the landmark's approximate point.
    const page = textOf((await hala.get(`/staff/tickets/${refs.landmark}`)).text);
    expect(page).toContain('قبلها: <bdi dir="ltr" class="coords">33.79510, 35.82620</bdi>، تقريبي من المَعلَم <bdi>مدرسة قب الياس الرسمية</bdi>');
    expect(page).not.toContain("موقع تقريبي (من المَعلَم الذي ذكره المواطن)");

    await hala.post(`/staff/tickets/${refs.landmark}/location`, { latitude: "٣٣٫٧٩٤", longitude: "٣٥٫٨٢٣" });
    expect(await ticketOf(refs.landmark)).toMatchObject({ latitude: 33.794, longitude: 35.823 });
  });

  it("an agent of another department cannot locate the ticket: 404, as for the other actions, and nothing changes", async () => {
    const before = await ticketOf(refs.light);
    const res = await rania.post(`/staff/tickets/${refs.light}/location`, { latitude: String(SCHOOL.latitude), longitude: String(SCHOOL.longitude) });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain("street light");
    expect((await rania.post("/staff/tickets/99999/location", { latitude: "33.79", longitude: "35.82" })).status).toBe(404);
    expect(await ticketOf(refs.light)).toEqual(before);
  });

  it("without the CSRF token, or with a wrong one: 403, and nothing changes", async () => {
    const before = await ticketOf(refs.light);
    for (const token of ["", "forged-token"]) {
      const res = await karim.post(`/staff/tickets/${refs.light}/location`, { latitude: String(SCHOOL.latitude), longitude: String(SCHOOL.longitude), _csrf: token });
      expect(res.status).toBe(403);
    }
    expect(await ticketOf(refs.light)).toEqual(before);
    // With it, Karim may: the street light is his department's.
    const res = await karim.post(`/staff/tickets/${refs.light}/location`, { latitude: String(SCHOOL.latitude), longitude: String(SCHOOL.longitude) });
    expect(textOf((await karim.follow(res)).text)).toContain("The request's point is set, in Town Centre.");
    expect(await ticketOf(refs.light)).toMatchObject({ ...SCHOOL, childZonePlaceId: ids.school, childZoneMetres: 0, childRelated: true });
  });
});

describe("reading the form's point", () => {
  it.each([
    [{ latitude: "33.7951", longitude: "35.8262" }, { latitude: 33.7951, longitude: 35.8262 }],
    [{ latitude: " 33.7951 ", longitude: "+35.8262" }, { latitude: 33.7951, longitude: 35.8262 }],
    [{ latitude: "33.7951, 35.8262", longitude: "" }, { latitude: 33.7951, longitude: 35.8262 }],
    [{ latitude: "33.7951 35.8262", longitude: " " }, { latitude: 33.7951, longitude: 35.8262 }],
    [{ latitude: "٣٣٫٧٩٥١، ٣٥٫٨٢٦٢", longitude: "" }, { latitude: 33.7951, longitude: 35.8262 }],
    [{ latitude: "\u200f33.7951\u200e", longitude: "\u061c35.8262" }, { latitude: 33.7951, longitude: 35.8262 }],
    [{ latitude: "33.7951, 35.8262, 12", longitude: "" }, null],
    [{ latitude: "33,7951", longitude: "35,8262" }, null],
    [{ latitude: "1e2", longitude: "35" }, null],
    [{ latitude: "33.7951", longitude: "" }, null],
    [{ latitude: "", longitude: "" }, null],
  ])("%j → %j", (form, point) => {
    expect(parsePoint(form)).toEqual(point);
  });
});

describe("names on the map are text", () => {
  it("a hostile place name is escaped in the data attributes and reads back as the same text", async () => {
    const hostile = `<img src=x onerror=alert(1)>" data-x='1' </div><script>alert(2)</script>`;
    await world.db.place.update({ where: { id: ids.school }, data: { nameAr: hostile } });
    try {
      const page = await rania.get(`/staff/tickets/${refs.pothole}`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain("<img src=x");
      expect(page.text).not.toContain("<script>alert(2)</script>");
      expect(page.text).not.toContain("data-x='1'");
      expect(mapElement(page.text)).toContain("&lt;img src=x onerror=alert(1)&gt;\\&quot; data-x=&#39;1&#39; &lt;/div&gt;&lt;script&gt;");
      expect(mapData(page.text, "zone")).toMatchObject({ name: hostile, label: `منطقة أطفال: 150 م حول ${hostile}` });
    } finally {
      await world.db.place.update({ where: { id: ids.school }, data: { nameAr: "مدرسة قب الياس الرسمية" } });
    }
  });
});
