import { distance } from "@turf/distance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pointRefusal, setTicketLocation } from "../../../src/services/places/setTicketLocation.js";
import type { Actor } from "../../../src/services/staff.js";
import { inbound } from "../../support/builders.js";
import { residentFiles, staffMember, type World } from "../../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";

/** Degrees of latitude in `metres` on turf's sphere: a point exactly that far north. */
const northBy = (metres: number) => (metres / 6371008.8) * (180 / Math.PI);
const metresBetween = (a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }) =>
  distance([a.longitude, a.latitude], [b.longitude, b.latitude], { units: "meters" });

const SCHOOL = { latitude: 33.7951, longitude: 35.8262 };
const PLAYGROUND = { latitude: 33.8, longitude: 35.84 };
/** In the town centre, more than 150 m from both. */
const SQUARE = { latitude: 33.7934, longitude: 35.8237 };
const square = (west: number, south: number, east: number, north: number) =>
  JSON.stringify({ type: "Polygon", coordinates: [[[west, south], [east, south], [east, north], [west, north], [west, south]]] });

let world: World;
let rania: Actor; // public works: the potholes
let karim: Actor; // electricity
let ids: { school: number; playground: number; centre: number; wadi: number };
const NOW = new Date("2026-03-14T09:00:00Z");

beforeAll(async () => {
  world = await createTestWorld({ childZoneMetres: 150 });
  const school = await world.db.place.create({
    data: { kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School", aliases: JSON.stringify(["المدرسة الرسمية"]), childRelated: true, ...SCHOOL },
  });
  const playground = await world.db.place.create({ data: { kind: "playground", nameAr: "ملعب وادي الدلم", nameEn: "Wadi al-Delm Playground", childRelated: true, ...PLAYGROUND } });
  const centre = await world.db.area.create({ data: { nameAr: "وسط البلدة", nameEn: "Town Centre", geometry: square(35.82, 33.79, 35.835, 33.799) } });
  const wadi = await world.db.area.create({ data: { nameAr: "وادي الدلم", nameEn: "Wadi al-Delm", geometry: square(35.835, 33.795, 35.85, 33.81) } });
  ids = { school: school.id, playground: playground.id, centre: centre.id, wadi: wadi.id };
  rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
  karim = await staffMember(world, { username: "karim", departments: ["electricity"] });
}, 120_000);
afterAll(async () => {
  await world.drop();
});

const ticketOf = (reference: number) => world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference } });
const eventsOf = async (reference: number) => world.db.ticketEvent.findMany({ where: { ticketId: (await ticketOf(reference)).id, kind: "location_set" }, orderBy: { id: "asc" } });
const setBy = (actor: Actor, reference: number, point: { latitude: number; longitude: number }) =>
  world.db.$transaction((tx) => setTicketLocation(tx, actor, reference, point, { zoneMetres: 150, now: NOW }));
/** A pothole (roads: not a child-related category) at a landmark nobody knows: no point. */
const unlocatedPothole = async () => (await residentFiles(world, { lines: ["في جورة كبيرة بالطريق العام", "1", "قدام بيت ابو علي", "1"] })).reference;

describe("staff set a request's point by hand", () => {
  it("80 m north of the playground: exact, in Wadi al-Delm, in the playground's zone at 80 m, now child-related, one event", async () => {
    const reference = await unlocatedPothole();
    expect(await ticketOf(reference)).toMatchObject({ latitude: null, childRelated: false });
    const point = { latitude: PLAYGROUND.latitude + northBy(80), longitude: PLAYGROUND.longitude };
    expect(metresBetween(point, PLAYGROUND)).toBeCloseTo(80, 6);

    const result = await setBy(rania, reference, point);
    expect(result).toMatchObject({
      ok: true,
      changed: true,
      becameChildRelated: true,
      area: { nameEn: "Wadi al-Delm" },
      zonePlace: { nameEn: "Wadi al-Delm Playground" },
      placement: { childZonePlaceId: ids.playground, childZoneMetres: 80 },
    });
    const ticket = await ticketOf(reference);
    // Kept to 6 decimals (about 11 cm), as the export writes them.
    expect(ticket).toMatchObject({
      latitude: Number(point.latitude.toFixed(6)),
      longitude: point.longitude,
      locationApproximate: false,
      placeId: null,
      areaId: ids.wadi,
      childZonePlaceId: ids.playground,
      childZoneMetres: 80,
      childRelated: true,
    });
    const [event, ...more] = await eventsOf(reference);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ actorType: "staff", actorId: rania.id, createdAt: NOW });
    expect(JSON.parse(event!.data)).toEqual({
      from: { latitude: null, longitude: null, approximate: false, placeId: null, areaId: null, childZonePlaceId: null, childZoneMetres: null, childRelated: false },
      to: { latitude: ticket.latitude, longitude: ticket.longitude, approximate: false, placeId: null, areaId: ids.wadi, childZonePlaceId: ids.playground, childZoneMetres: 80, childRelated: true },
    });
  });

  it("a pothole child-related only because its pin was by the school is no longer so when staff move it away", async () => {
    const from = "+96170990001";
    const say = (fields: Partial<Parameters<typeof inbound>[0]>) => world.inbox(inbound({ from, channel: "whatsapp", ...fields }));
    await say({ text: "في جورة كبيرة بالطريق العام" });
    await say({ text: "1" });
    await say({ location: { ...SCHOOL, label: "Qab Elias" } });
    await say({ media: [{ url: "https://api.twilio.com/x/Media/ME1", contentType: "image/jpeg" }] });
    const filed = (await say({ text: "1" })).replies.join("\n");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    expect(await ticketOf(reference)).toMatchObject({ childZonePlaceId: ids.school, childRelated: true });

    expect(await setBy(rania, reference, SQUARE)).toMatchObject({ ok: true, changed: true, zonePlace: null });
    expect(await ticketOf(reference)).toMatchObject({ ...SQUARE, childZonePlaceId: null, childRelated: false });
  });

  it("a request placed at the landmark it named: the hand-set point is exact, the landmark no longer applies, and the resident's words keep it child-related", async () => {
    const { reference } = await residentFiles(world, { lines: ["في جورة كبيرة بالطريق العام", "1", "قدام المدرسة الرسمية", "1"] });
    expect(await ticketOf(reference)).toMatchObject({ ...SCHOOL, locationApproximate: true, placeId: ids.school, childZonePlaceId: ids.school, childZoneMetres: 0, childRelated: true });
    expect(metresBetween(SQUARE, SCHOOL)).toBeGreaterThan(150);

    expect(await setBy(rania, reference, SQUARE)).toMatchObject({ ok: true, changed: true, becameChildRelated: false, zonePlace: null, area: { nameEn: "Town Centre" } });
    expect(await ticketOf(reference)).toMatchObject({
      ...SQUARE,
      locationApproximate: false,
      placeId: null,
      areaId: ids.centre,
      childZonePlaceId: null,
      childZoneMetres: null,
      // "قدام المدرسة الرسمية": the resident's own words are about a school.
      childRelated: true,
    });
    const [event] = await eventsOf(reference);
    expect(JSON.parse(event!.data).from).toMatchObject({ ...SCHOOL, approximate: true, placeId: ids.school, childZonePlaceId: ids.school, childZoneMetres: 0 });
  });

  it("a broken swing stays child-related wherever staff put it: its category is about children", async () => {
    const { reference } = await residentFiles(world, { lines: ["المرجوحة مكسورة بالملعب", "1", "قدام المدرسة الرسمية", "1"] });
    expect(await ticketOf(reference)).toMatchObject({ childZonePlaceId: ids.school, childRelated: true });
    expect(await setBy(rania, reference, SQUARE)).toMatchObject({ ok: true, changed: true, zonePlace: null });
    expect(await ticketOf(reference)).toMatchObject({ childZonePlaceId: null, childRelated: true });
  });

  it("a request filed before its creation said why it was child-related keeps the flag when moved out of the zone", async () => {
    const { reference } = await residentFiles(world, { lines: ["في جورة كبيرة بالطريق العام", "1", "قدام المدرسة الرسمية", "1"] });
    const ticket = await ticketOf(reference);
    await world.db.ticketEvent.updateMany({ where: { ticketId: ticket.id, kind: "created" }, data: { data: JSON.stringify({ channel: "sms", route: "twilio", needsHuman: false }) } });
    await setBy(rania, reference, SQUARE);
    expect(await ticketOf(reference)).toMatchObject({ childZonePlaceId: null, childRelated: true });
  });

  it("confirming the landmark's own point makes it exact: a change", async () => {
    const { reference } = await residentFiles(world, { lines: ["في جورة كبيرة بالطريق العام", "1", "قدام المدرسة الرسمية", "1"] });
    expect(await setBy(rania, reference, SCHOOL)).toMatchObject({ ok: true, changed: true });
    expect(await ticketOf(reference)).toMatchObject({ ...SCHOOL, locationApproximate: false, placeId: null, childZonePlaceId: ids.school, childZoneMetres: 0 });
  });

  it("the same point again changes nothing and records nothing; a pin's extra decimals are the same point", async () => {
    const reference = await unlocatedPothole();
    expect(await setBy(rania, reference, SQUARE)).toMatchObject({ changed: true });
    const before = await ticketOf(reference);
    expect(await setBy(rania, reference, SQUARE)).toMatchObject({ ok: true, changed: false });
    expect(await ticketOf(reference)).toEqual(before);
    expect(await eventsOf(reference)).toHaveLength(1);

    await world.db.ticket.update({ where: { id: before.id }, data: { latitude: 33.79340012345, longitude: 35.82369987654 } });
    expect(await setBy(rania, reference, { latitude: 33.7934, longitude: 35.8237 })).toMatchObject({ ok: true, changed: false });
    expect(await ticketOf(reference)).toMatchObject({ latitude: 33.79340012345, longitude: 35.82369987654 });
  });

  it.each([
    ["in Qab Elias", SQUARE, null],
    ["in Paris", { latitude: 48.8566, longitude: 2.3522 }, "outside_lebanon"],
    ["with latitude and longitude swapped", { latitude: 35.8262, longitude: 33.7951 }, "swapped"],
    ["not a number", { latitude: Number.NaN, longitude: 35.8 }, "outside_lebanon"],
  ] as const)("a point %s: %s", (_what, point, refusal) => {
    expect(pointRefusal(point)).toBe(refusal);
  });

  it("a point outside Lebanon is refused and nothing changes", async () => {
    const reference = await unlocatedPothole();
    const before = await ticketOf(reference);
    expect(await setBy(rania, reference, { latitude: 48.8566, longitude: 2.3522 })).toEqual({ ok: false, error: "refused", reason: "outside_lebanon" });
    expect(await setBy(rania, reference, { latitude: 35.8262, longitude: 33.7951 })).toEqual({ ok: false, error: "refused", reason: "swapped" });
    expect(await ticketOf(reference)).toEqual(before);
    expect(await eventsOf(reference)).toHaveLength(0);
  });

  it("a payment report is about an account, not a place: refused, nothing changes", async () => {
    const reference = await unlocatedPothole();
    const ticket = await ticketOf(reference);
    const account = await world.db.account.create({ data: { municipalityId: MUNICIPALITY, number: "PR-1", holderName: "Nour", accountType: "property", verificationCodeHash: "x" } });
    await world.db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: ticket.id, accountId: account.id, amount: 1250000, currency: "LBP", paidAt: "OMT" } });
    expect(await setBy(rania, reference, SQUARE)).toEqual({ ok: false, error: "refused", reason: "payment_report" });
    expect(await ticketOf(reference)).toEqual(ticket);
    expect(await eventsOf(reference)).toHaveLength(0);
  });

  it("an agent of another department cannot locate the ticket: not found, nothing changes", async () => {
    const reference = await unlocatedPothole();
    expect(await setBy(karim, reference, SQUARE)).toMatchObject({ ok: false, error: "not_found" });
    expect(await ticketOf(reference)).toMatchObject({ latitude: null, longitude: null });
    expect(await eventsOf(reference)).toHaveLength(0);
  });
});
