import { distance } from "@turf/distance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { PlaceCache } from "../../src/services/places/placeCache.js";
import { hire, signedIn, textOf } from "../http/staff/staffBrowser.js";
import { createTestWorld } from "../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../support/twilio.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
/** The inbox's place cache, counting its reads. */
const places = new PlaceCache();
let placeReads = 0;
const get = places.get.bind(places);
places.get = (...args) => {
  placeReads++;
  return get(...args);
};

/** Degrees of latitude in `metres` on turf's sphere: a point exactly that far north. */
const northBy = (metres: number) => (metres / 6371008.8) * (180 / Math.PI);

const SCHOOL = { latitude: 33.7951, longitude: 35.8262 };
const PLAYGROUND = { latitude: 33.8, longitude: 35.84 };
let ids: { school: number; playground: number; church: number; centre: number; wadi: number };

const square = (west: number, south: number, east: number, north: number) =>
  JSON.stringify({ type: "Polygon", coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] });

beforeAll(async () => {
  world = await createTestWorld({ places, childZoneMetres: 150 });
  const school = await world.db.place.create({
    data: {
      kind: "school",
      nameAr: "مدرسة قب الياس الرسمية",
      nameEn: "Qab Elias Public School",
      aliases: JSON.stringify(["المدرسة الرسمية", "مدرسة قب الياس", "el madrase el rasmiye", "the public school"]),
      childRelated: true,
      ...SCHOOL,
    },
  });
  const playground = await world.db.place.create({
    data: { kind: "playground", nameAr: "ملعب وادي الدلم", nameEn: "Wadi al-Delm Playground", aliases: JSON.stringify(["mal3ab wadi el delm"]), childRelated: true, ...PLAYGROUND },
  });
  const church = await world.db.place.create({
    data: { kind: "place_of_worship", nameAr: "كنيسة قب الياس", nameEn: "Qab Elias Church", aliases: JSON.stringify(["الكنيسة", "el kniseh"]), latitude: 33.791, longitude: 35.83 },
  });
  const centre = await world.db.area.create({ data: { nameAr: "وسط البلدة", nameEn: "Town Centre", geometry: square(35.82, 33.79, 35.835, 33.799) } });
  const wadi = await world.db.area.create({ data: { nameAr: "وادي الدلم", nameEn: "Wadi al-Delm", geometry: square(35.835, 33.795, 35.85, 33.81) } });
  ids = { school: school.id, playground: playground.id, church: church.id, centre: centre.id, wadi: wadi.id };
  await hire(world, "hala");
}, 120_000);
afterAll(async () => {
  await world.drop();
});

let phoneCounter = 0;
const freshPhone = () => `+9617${String(4000000 + ++phoneCounter).slice(1)}`;

async function sms(from: string, body: string): Promise<string> {
  const res = await postToTwilioWebhook(world.app, twilioPayload("sms", { From: from, Body: body }));
  expect(res.status).toBe(200);
  return twimlMessages(res.text).join("\n");
}

/** An SMS resident reports a pothole (roads: not a child-related category) and gives `landmark` as the location. */
async function smsRequest(landmark: string, description = "في جورة كبيرة بالطريق العام"): Promise<number> {
  const from = freshPhone();
  await sms(from, description);
  await sms(from, "1");
  await sms(from, landmark);
  const filed = await sms(from, "1");
  const reference = Number(/#(\d+)/.exec(filed)?.[1]);
  expect(reference, filed).toBeGreaterThan(0);
  return reference;
}

const ticketOf = (reference: number) => world.db.ticket.findFirstOrThrow({ where: { reference } });

describe("coordinates for every request", () => {
  it("an SMS resident who writes 'قدام المدرسة الرسمية' gets the school's point, approximate, in its area, child-related at 0 m", async () => {
    const reference = await smsRequest("قدام المدرسة الرسمية");
    expect(await ticketOf(reference)).toMatchObject({
      channel: "sms",
      addressText: "قدام المدرسة الرسمية",
      latitude: SCHOOL.latitude,
      longitude: SCHOOL.longitude,
      locationApproximate: true,
      placeId: ids.school,
      areaId: ids.centre,
      childZonePlaceId: ids.school,
      childZoneMetres: 0,
      childRelated: true,
    });
  });

  // Corpus-style location lines for the sample places, as residents type them.
  it.each([
    ["2oddem el madrase el rasmiye", "school"],
    ["قدّام مدرسة قب الياس", "school"],
    ["mal3ab wadi el delm", "playground"],
    ["ورا الكنيسة", "church"],
  ] as const)("the landmark %j is placed at the %s", async (landmark, which) => {
    const ticket = await ticketOf(await smsRequest(landmark));
    expect(ticket.placeId).toBe(ids[which]);
    expect(ticket.locationApproximate).toBe(true);
  });

  it("near a landmark that is not child-related, outside every zone: located, but the category decides", async () => {
    const ticket = await ticketOf(await smsRequest("ورا الكنيسة"));
    expect(ticket).toMatchObject({ placeId: ids.church, areaId: ids.centre, childZonePlaceId: null, childZoneMetres: null, childRelated: false, latitude: 33.791 });
  });

  it("a WhatsApp pin 80 m from a playground is used as it is and is child-related, within 80 m", async () => {
    const pin = { latitude: PLAYGROUND.latitude + northBy(80), longitude: PLAYGROUND.longitude };
    expect(Math.round(distance([pin.longitude, pin.latitude], [PLAYGROUND.longitude, PLAYGROUND.latitude], { units: "meters" }))).toBe(80);
    const from = `whatsapp:${freshPhone()}`;
    const say = async (fixture: Parameters<typeof twilioPayload>[0], fields: Record<string, string> = {}) =>
      twimlMessages((await postToTwilioWebhook(world.app, twilioPayload(fixture, { From: from, ...fields }))).text).join("\n");
    await say("whatsapp-text");
    await say("whatsapp-text", { Body: "1" });
    // The pin's label names the school: a pin wins over any text.
    await say("whatsapp-location", { Latitude: String(pin.latitude), Longitude: String(pin.longitude), Label: "المدرسة الرسمية", Address: "" });
    await say("whatsapp-image");
    const filed = await say("whatsapp-text", { Body: "1" });
    const ticket = await ticketOf(Number(/#(\d+)/.exec(filed)?.[1]));
    expect(ticket).toMatchObject({
      channel: "whatsapp",
      latitude: pin.latitude,
      longitude: pin.longitude,
      locationApproximate: false,
      placeId: null,
      areaId: ids.wadi,
      childZonePlaceId: ids.playground,
      childZoneMetres: 80,
      childRelated: true,
    });
  });

  it("a landmark nobody knows gives no coordinates", async () => {
    const ticket = await ticketOf(await smsRequest("قدام بيت ابو علي"));
    expect(ticket).toMatchObject({
      addressText: "قدام بيت ابو علي",
      latitude: null,
      longitude: null,
      locationApproximate: false,
      placeId: null,
      areaId: null,
      childZonePlaceId: null,
      childZoneMetres: null,
      childRelated: false,
    });
  });

  it("an address that names no place is not replaced by a place the description mentions", async () => {
    // Found in review: "my children walk to the public school in the dark" described a street light elsewhere.
    const ticket = await ticketOf(await smsRequest("بالحي", "ولادي بيروحوا عالمدرسة الرسمية بالعتمة، الضو مطفي"));
    expect(ticket).toMatchObject({ placeId: null, latitude: null, locationApproximate: false });
  });

  it("places are read only when a ticket is filed, and a new place is seen by the next ticket", async () => {
    const from = freshPhone();
    const before = placeReads;
    await sms(from, "مرحبا");
    await sms(from, "2");
    expect(placeReads).toBe(before);
    await smsRequest("حد فرن الضيعة");
    expect(placeReads).toBe(before + 1);
    const bakery = await world.db.place.create({ data: { kind: "landmark", nameAr: "فرن الضيعة", nameEn: "Village Bakery", latitude: 33.797, longitude: 35.829 } });
    const ticket = await ticketOf(await smsRequest("حد فرن الضيعة"));
    expect(ticket).toMatchObject({ placeId: bakery.id, latitude: 33.797, longitude: 35.829, areaId: ids.centre });
    await world.db.place.delete({ where: { id: bakery.id } });
    expect((await ticketOf(await smsRequest("حد فرن الضيعة"))).placeId).toBeNull();
  });
});

describe("the ticket page says where and why", () => {
  it("shows the place, the area, that the point is approximate, and the child zone with the distance", async () => {
    const school = await ticketOf(await smsRequest("قدام المدرسة الرسمية"));
    const hala = await signedIn(world.app, "hala");
    const ar = await hala.get(`/staff/tickets/${school.reference}`);
    expect(ar.status).toBe(200);
    expect(ar.text).toContain("موقع تقريبي (من المَعلَم الذي ذكره المواطن)");
    expect(ar.text).toContain("<bdi>مدرسة قب الياس الرسمية</bdi>");
    expect(ar.text).toContain("<bdi>وسط البلدة</bdi>");
    expect(ar.text).toContain("عند <bdi>مدرسة قب الياس الرسمية</bdi>");

    // The same in English, and a pin: not approximate, "within 80 m".
    await world.db.staff.updateMany({ where: { username: "hala" }, data: { locale: "en" } });
    const pinned = await world.db.ticket.update({
      where: { id: school.id },
      data: { latitude: 33.8007, longitude: 35.84, locationApproximate: false, placeId: null, areaId: ids.wadi, childZonePlaceId: ids.playground, childZoneMetres: 80 },
    });
    const en = textOf((await hala.get(`/staff/tickets/${pinned.reference}`)).text);
    expect(en).toContain("within 80 m of <bdi>Wadi al-Delm Playground</bdi>");
    expect(en).toContain("<bdi>Wadi al-Delm</bdi>");
    expect(en).not.toContain("Approximate location");
  });

  it("escapes place names", async () => {
    const ticket = await ticketOf(await smsRequest("قدام المدرسة الرسمية"));
    await world.db.place.update({ where: { id: ids.school }, data: { nameEn: "<script>alert(1)</script> School" } });
    try {
      await world.db.staff.updateMany({ where: { username: "hala" }, data: { locale: "en" } });
      const page = (await (await signedIn(world.app, "hala")).get(`/staff/tickets/${ticket.reference}`)).text;
      expect(page).not.toContain("<script>alert(1)</script>");
      expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt; School");
    } finally {
      await world.db.place.update({ where: { id: ids.school }, data: { nameEn: "Qab Elias Public School" } });
    }
  });
});

describe("CHILD_ZONE_METRES", () => {
  it("defaults to 150 and is checked", () => {
    expect(loadConfig({}).map.childZoneMetres).toBe(150);
    expect(loadConfig({ CHILD_ZONE_METRES: "80" }).map.childZoneMetres).toBe(80);
    for (const bad of ["5", "2001", "1.5", "far"]) {
      expect(() => loadConfig({ CHILD_ZONE_METRES: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ CHILD_ZONE_METRES: bad })).toThrow(/CHILD_ZONE_METRES:/);
    }
  });
});
