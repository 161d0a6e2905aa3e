import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CategoryView } from "../../src/conversation/types.js";
import { createInbox } from "../../src/inbox/handleInbound.js";
import { hotCategorySource } from "../../src/db/hot/categories.js";
import { CategoryCache, type CategorySource } from "../../src/services/categories.js";
import { understand } from "../../src/understand/understand.js";
import { inbound } from "../support/builders.js";
import { freshPhone, hire, residentSays, signedIn, type StaffBrowser, type World } from "../http/staff/staffBrowser.js";
import { createTestWorld, inboxDeps, MUNICIPALITY } from "../support/testApp.js";

/** A cache that counts how often it reads the categories themselves (not their version). */
class CountingCache extends CategoryCache {
  loads = 0;

  override get(municipalityId: string, source: CategorySource): Promise<CategoryView[]> {
    return super.get(municipalityId, {
      version: () => source.version(),
      load: () => {
        this.loads++;
        return source.load();
      },
    });
  }
}

/** A source whose version and categories the test sets, and whose loads it can hold back. */
function fakeSource(version = "v1") {
  const source = {
    version,
    loads: 0,
    failNext: false,
    gate: Promise.resolve(),
    async load(): Promise<CategoryView[]> {
      source.loads++;
      await source.gate;
      if (source.failNext) {
        source.failNext = false;
        throw new Error("connection lost");
      }
      return [{ code: "roads", name: { ar: "طرقات", en: "Roads" }, keywords: ["pothole"], needsLocation: true, childRelated: false }];
    },
  };
  return { source, asSource: (): CategorySource => ({ version: async () => source.version, load: () => source.load() }) };
}

describe("CategoryCache", () => {
  it("hands out the same categories while the version holds, and loads again when it changes", async () => {
    const cache = new CategoryCache();
    const { source, asSource } = fakeSource();
    const first = await cache.get(MUNICIPALITY, asSource());
    expect(await cache.get(MUNICIPALITY, asSource())).toBe(first);
    expect(source.loads).toBe(1);
    expect(Object.isFrozen(first) && Object.isFrozen(first[0]) && Object.isFrozen(first[0]!.keywords)).toBe(true);

    source.version = "v2";
    const second = await cache.get(MUNICIPALITY, asSource());
    expect(second).not.toBe(first);
    expect(await cache.get(MUNICIPALITY, asSource())).toBe(second);
    expect(source.loads).toBe(2);
  });

  it("keeps each municipality apart", async () => {
    const cache = new CategoryCache();
    const { source, asSource } = fakeSource();
    await cache.get("qab-elias", asSource());
    await cache.get("zahle", asSource());
    await cache.get("qab-elias", asSource());
    expect(source.loads).toBe(2);
  });

  it("shares one load between messages that ask at the same time", async () => {
    const cache = new CategoryCache();
    const { source, asSource } = fakeSource();
    let open!: () => void;
    source.gate = new Promise((resolve) => (open = resolve));
    const pending = [cache.get(MUNICIPALITY, asSource()), cache.get(MUNICIPALITY, asSource()), cache.get(MUNICIPALITY, asSource())];
    open();
    const [a, b, c] = await Promise.all(pending);
    expect(source.loads).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it("does not keep a failed load: the next message tries again", async () => {
    const cache = new CategoryCache();
    const { source, asSource } = fakeSource();
    source.failNext = true;
    await expect(cache.get(MUNICIPALITY, asSource())).rejects.toThrow("connection lost");
    expect(await cache.get(MUNICIPALITY, asSource())).toHaveLength(1);
    expect(source.loads).toBe(2);
  });

  it("a message waiting on another's load that fails loads for itself", async () => {
    const cache = new CategoryCache();
    const failing = fakeSource();
    const healthy = fakeSource();
    let open!: () => void;
    failing.source.gate = new Promise((resolve) => (open = resolve));
    failing.source.failNext = true;
    const first = cache.get(MUNICIPALITY, failing.asSource());
    const second = cache.get(MUNICIPALITY, healthy.asSource());
    open();
    await expect(first).rejects.toThrow("connection lost");
    expect(await second).toHaveLength(1);
    expect(healthy.source.loads).toBe(1);
  });

  it("invalidate forgets the categories even when the version did not change", async () => {
    const cache = new CategoryCache();
    const { source, asSource } = fakeSource();
    const before = await cache.get(MUNICIPALITY, asSource());
    cache.invalidate(MUNICIPALITY);
    expect(await cache.get(MUNICIPALITY, asSource())).not.toBe(before);
    expect(source.loads).toBe(2);
  });

  it("a load whose version was read before an invalidation is not kept", async () => {
    const cache = new CategoryCache();
    const { source } = fakeSource();
    let readVersion!: () => void;
    const slowVersion: CategorySource = {
      version: () => new Promise((resolve) => (readVersion = () => resolve("v1"))),
      load: () => source.load(),
    };
    const early = cache.get(MUNICIPALITY, slowVersion);
    cache.invalidate(MUNICIPALITY);
    readVersion();
    const stale = await early;
    expect(await cache.get(MUNICIPALITY, { version: async () => "v1", load: () => source.load() })).not.toBe(stale);
    expect(source.loads).toBe(2);
  });
});

describe("understand", () => {
  it("reads a category's keywords once, however many messages it reads", () => {
    let reads = 0;
    const keywords: string[] = [];
    for (const [i, word] of ["pothole", "حفرة"].entries()) {
      Object.defineProperty(keywords, i, {
        enumerable: true,
        get: () => {
          reads++;
          return word;
        },
      });
    }
    const categories = [{ code: "roads", keywords }];
    for (const text of ["a big pothole on the main road", "حفرة كبيرة قدام البيت", "hello"]) understand(text, categories);
    expect(reads).toBe(2);
    expect(understand("there is a pothole near the school gate", categories).categoryCode).toBe("roads");
  });
});

describe("categories through the inbox, with one cache per instance", () => {
  let world: World;
  let cache: CountingCache;
  let hala: StaffBrowser;

  beforeAll(async () => {
    cache = new CountingCache();
    world = await createTestWorld({ categories: cache });
    await hire(world, "hala");
    hala = await signedIn(world.app, "hala");
  }, 60_000);
  afterAll(async () => {
    await world.drop();
  });

  const says = (text: string) => residentSays(world.app, freshPhone(), text);
  const categoryId = async (code: string) => (await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } })).id;
  /** Saves a category through the admin page, as Hala would; unset flags are unticked. */
  async function saveCategory(code: string, changes: Record<string, string>) {
    const row = await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code } });
    const form = {
      nameAr: row.nameAr,
      nameEn: row.nameEn,
      department: row.department,
      keywords: (JSON.parse(row.keywords) as string[]).join("\n"),
      sortOrder: String(row.sortOrder),
      ...(row.needsLocation ? { needsLocation: "on" } : {}),
      ...(row.active ? { active: "on" } : {}),
      ...changes,
    };
    const res = await hala.post(`/staff/admin/categories/${row.id}`, form);
    expect(res.status, res.text).toBe(303);
  }

  it("reads the categories once across many messages", async () => {
    const loadsBefore = cache.loads;
    for (let i = 0; i < 8; i++) expect(await says("there is a big pothole in the main road")).toContain("Roads and potholes");
    expect(cache.loads - loadsBefore).toBe(1);
    const source = hotCategorySource(world.hot.db, MUNICIPALITY);
    expect(await cache.get(MUNICIPALITY, source)).toBe(await cache.get(MUNICIPALITY, source));
  });

  it("the next message sees a category Hala renamed", async () => {
    await saveCategory("roads", { nameEn: "Streets", nameAr: "الشوارع" });
    expect(await says("there is a big pothole in the main road")).toContain("Streets");
  });

  it("the next message no longer offers a category Hala switched off", async () => {
    expect(await says("the street light is broken")).toContain("Street lighting");
    await saveCategory("lighting", { active: "" });
    // Not recognised any more: the resident is asked to choose, and lighting is not among the choices.
    const reply = await says("the street light is broken");
    expect(reply).toContain("What is it about?");
    expect(reply).not.toContain("Street lighting");
    expect(await says("I want to report a problem")).not.toContain("Street lighting");
  });

  it("the next message finds a category Hala added", async () => {
    expect(await says("a big tree fell across our street")).not.toContain("Fallen trees");
    const res = await hala.post("/staff/admin/categories", { code: "fallen_trees", nameAr: "أشجار مقطوعة", nameEn: "Fallen trees", department: "public_works", keywords: "tree\nشجرة", needsLocation: "on", active: "on", sortOrder: "95" });
    expect(res.status, res.text).toBe(303);
    expect(await says("a big tree fell across our street")).toContain("Fallen trees");
  });

  it("an edit written without the admin page (no invalidate) is seen through the version alone", async () => {
    const loadsBefore = cache.loads;
    await world.db.category.update({ where: { id: await categoryId("water") }, data: { nameEn: "Drinking water" } });
    expect(await says("no water since two days, the pipe is leaking")).toContain("Drinking water");
    expect(await says("no water since two days, the pipe is leaking")).toContain("Drinking water");
    expect(cache.loads - loadsBefore).toBe(1);
  });

  it("a second instance on the same database sees an edit the first one made", async () => {
    const other = new CountingCache();
    const otherInbox = createInbox(inboxDeps(world, { categories: other }));
    const otherSays = async (text: string) => (await otherInbox(inbound({ from: freshPhone(), text }))).replies.join("\n");
    expect(await otherSays("stray dogs are barking all night near the school")).toContain("Stray animals");
    expect(other.loads).toBe(1);

    await saveCategory("stray_animals", { nameEn: "Animals on the loose" });
    expect(await otherSays("stray dogs are barking all night near the school")).toContain("Animals on the loose");
    expect(other.loads).toBe(2);
  });

  it("a malformed keywords list stops matching that category, not the bot", async () => {
    await world.db.category.update({ where: { id: await categoryId("sewage") }, data: { keywords: "[\"sewage\", broken" } });
    const reply = await says("the sewage is overflowing into the street");
    expect(reply).not.toContain("Sewage");
    expect(reply).toContain("1 New request");
    // Still offered by number, and the other categories still match.
    expect(await says("I want to report a problem")).toContain("Sewage");
    expect(await says("there is a big pothole in the main road")).toContain("Streets");
  });
});
