import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillCannedReply, seedCannedReplies, shippedCannedReplies } from "../../src/services/cannedReplies.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

const ARABIC = /[\u0600-\u06FF]/;

describe("the shipped canned replies", () => {
  const shipped = shippedCannedReplies();

  it("cover what agents write every day, in both languages", () => {
    const titles = shipped.map((r) => r.en.title);
    for (const title of ["Request received", "Crew scheduled", "Need a photo", "Need the exact location", "Work done", "Already reported", "Not the municipality's"]) {
      expect(titles).toContain(title);
    }
    for (const reply of shipped) {
      expect(reply.ar.title).toMatch(ARABIC);
      expect(reply.ar.body).toMatch(ARABIC);
      expect(reply.en.body).not.toMatch(ARABIC);
    }
  });

  it("use only the placeholders the ticket page fills in", () => {
    for (const reply of shipped) {
      for (const text of [reply.ar.body, reply.en.body]) expect(text.replace(/\{(reference|category)\}/g, "")).not.toMatch(/[{}]/);
    }
  });
});

describe("seedCannedReplies", () => {
  it("gives a town without canned replies the shipped set, in Arabic and English", async () => {
    const shipped = shippedCannedReplies();
    expect(await seedCannedReplies(world.db, MUNICIPALITY)).toBe(shipped.length * 2);
    const rows = await world.db.cannedReply.findMany({ where: { municipalityId: MUNICIPALITY }, include: { category: true } });
    expect(rows.filter((r) => r.locale === "ar")).toHaveLength(shipped.length);
    expect(rows.filter((r) => r.locale === "en")).toHaveLength(shipped.length);
    expect(rows.find((r) => r.title === "International road: Ministry")?.category?.code).toBe("roads");
    expect(rows.find((r) => r.title === "Request received")?.categoryId).toBeNull();
  });

  it("does nothing the second time, nor to a town whose admins already wrote their own", async () => {
    const before = await world.db.cannedReply.count();
    expect(await seedCannedReplies(world.db, MUNICIPALITY)).toBe(0);
    expect(await world.db.cannedReply.count()).toBe(before);

    await world.db.cannedReply.deleteMany({ where: { municipalityId: MUNICIPALITY } });
    await world.db.cannedReply.create({ data: { municipalityId: MUNICIPALITY, locale: "ar", title: "ردّنا", body: "نص البلدية" } });
    expect(await seedCannedReplies(world.db, MUNICIPALITY)).toBe(0);
    expect(await world.db.cannedReply.count({ where: { municipalityId: MUNICIPALITY } })).toBe(1);
  });
});

describe("fillCannedReply", () => {
  it.each([
    ["استلمنا طلبك #{reference} ({category}).", { reference: 10427, category: "طرقات وحفر" }, "استلمنا طلبك #10427 (طرقات وحفر)."],
    ["We received your request #{reference} ({category}).", { reference: 10427, category: "Roads and potholes" }, "We received your request #10427 (Roads and potholes)."],
    ["#{reference} and #{reference} again", { reference: 7, category: "x" }, "#7 and #7 again"],
    ["{unknown} stays as written; {category}", { reference: 1, category: "$& $1" }, "{unknown} stays as written; $& $1"],
  ])("%j → %j", (body, values, expected) => {
    expect(fillCannedReply(body, values)).toBe(expected);
  });
});
