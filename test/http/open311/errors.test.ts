import { Writable } from "node:stream";
import { pino } from "pino";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open311Defaults } from "../../../src/config.js";
import { createApp } from "../../../src/http/createApp.js";
import { assertValid, getBoth, OPEN311_CONTENT_TYPE, sparkFromXml } from "../../support/open311.js";
import { createTestWorld } from "../../support/testApp.js";
import { PUBLIC_BASE_URL } from "../../support/twilio.js";

let world: Awaited<ReturnType<typeof createTestWorld>>;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

type Errors = Array<{ code: number; description: string }>;

/** GETs `path` as .json and .xml: both answer `status` with an `<errors>` document saying `description`. */
async function expectErrors(path: string, status: number, description: RegExp, app = world.app) {
  const { status: got, json } = await getBoth(app, path, "errors");
  expect(got, JSON.stringify(json)).toBe(status);
  assertValid("errors", json);
  const errors = json as Errors;
  expect(errors.every((e) => e.code === status)).toBe(true);
  expect(errors.map((e) => e.description).join("\n")).toMatch(description);
  return errors;
}

/** An answer in XML whatever was asked: well-formed `<errors>` with this status. */
async function expectXmlErrors(res: request.Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("text/xml; charset=utf-8");
  const { root, value } = sparkFromXml(res.text);
  expect(root).toBe("errors");
  assertValid("errors", value);
  expect((value as Errors)[0]!.code).toBe(status);
}

describe("Open311 errors: always in the format asked for, never HTML", () => {
  it.each([
    ["an unknown route", "/open311/v2/nothing", 404, /Not found/],
    ["a request number that does not exist", "/open311/v2/requests/99999", 404, /no such request/],
    ["a request id that is not a number", "/open311/v2/requests/abc", 404, /no such request/],
    ["a request id too large for the database", "/open311/v2/requests/99999999999", 404, /no such request/],
    ["an unknown service", "/open311/v2/services/no_such_thing", 404, /no such service/],
    ["a service code that is not one", "/open311/v2/services/%E2%80%AE%3Cx%3E", 404, /no such service/],
    ["a service code with NUL", "/open311/v2/services/a%00b", 404, /no such service/],
    ["another jurisdiction", "/open311/v2/services?jurisdiction_id=zahle.example.org", 404, /jurisdiction_id: "zahle.example.org" is not served here/],
    ["jurisdiction_id given twice", "/open311/v2/services?jurisdiction_id=a&jurisdiction_id=b", 400, /jurisdiction_id: give it once/],
    ["tokens: this server is realtime", "/open311/v2/tokens/123abc", 404, /realtime/],
    ["a NUL in the query", "/open311/v2/services?locale=%00", 400, /NUL/],
    ["a request list that is not numbers", "/open311/v2/requests?service_request_id=10427,abc", 400, /service_request_id: "abc" is not a request number/],
    ["a request number beyond the database's", "/open311/v2/requests?service_request_id=99999999999", 400, /not a request number/],
    ["an unknown status", "/open311/v2/requests?status=open,pending", 400, /status: "pending" is neither open nor closed/],
    ["a start date that is not one", "/open311/v2/requests?start_date=yesterday", 400, /start_date: "yesterday" is not a date-time/],
    ["a date-time without an offset", "/open311/v2/requests?end_date=2026-03-14T08:30:00", 400, /end_date: .* is not a date-time/],
    ["30 February", "/open311/v2/requests?start_date=2026-02-30", 400, /start_date/],
    ["25 o'clock", "/open311/v2/requests?start_date=2026-02-03T25:00:00Z", 400, /start_date/],
    ["start after end", "/open311/v2/requests?start_date=2026-03-14T00:00:00Z&end_date=2026-03-13T00:00:00Z", 400, /start_date: must not be after end_date/],
    ["more than 90 days apart", "/open311/v2/requests?start_date=2026-01-01&end_date=2026-04-01", 400, /end_date: at most 90 days after start_date/],
    ["start_date given twice", "/open311/v2/requests?start_date=2026-01-01&start_date=2026-01-02", 400, /start_date: give it once/],
    ["a malformed %-escape in the path", "/open311/v2/requests/%E0%A4%A", 400, /malformed/],
    ["a malformed %-escape in a service code", "/open311/v2/services/%ZZ", 400, /malformed/],
  ])("%s", async (_, path, status, description) => {
    await expectErrors(path, status, description);
  });

  it("reports every problem of a query at once", async () => {
    const errors = await expectErrors("/open311/v2/requests?status=pending&start_date=soon&end_date=later", 400, /status/);
    expect(errors.map((e) => e.description.split(":")[0])).toEqual(["status", "start_date", "end_date"]);
  });

  it("keeps a query full of bad values to a readable answer", async () => {
    const errors = await expectErrors(`/open311/v2/requests?status=${Array.from({ length: 50 }, (_, i) => `s${i}`).join(",")}`, 400, /status: "s0"/);
    expect(errors).toHaveLength(10);
    const many = await expectErrors(`/open311/v2/requests?service_request_id=${Array.from({ length: 1001 }, (_, i) => 10000 + i).join(",")}`, 400, /at most 1000 at once/);
    expect(many).toHaveLength(1);
  });

  it("writes what a client sent as text, escaped", async () => {
    const { xml } = await getBoth(world.app, `/open311/v2/requests?status=${encodeURIComponent("<b>&amp;مفتوح")}`, "errors");
    expect(xml).toContain("&lt;b&gt;&amp;amp;مفتوح");
  });

  it.each(["/open311/v2/services.html", "/open311/v2/services", "/open311/v2/services.xml.bak", "/open311/v2/requests/10427.php", "/open311/v2/"])(
    "answers an unknown format (%s) 404 in XML",
    async (path) => {
      await expectXmlErrors(await request(world.app).get(path), 404);
    },
  );

  it("accepts the format in capitals, as the paths are case-insensitive", async () => {
    const res = await request(world.app).get("/open311/v2/services.JSON");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("refuses filing without a valid client key with 403, in the format asked for", async () => {
    const json = await request(world.app).post("/open311/v2/requests.json").type("form").send({ api_key: "anything", service_code: "roads", lat: "33.8", long: "35.8" });
    expect(json.status).toBe(403);
    expect(json.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(json.headers["access-control-allow-origin"]).toBeUndefined();
    expect(json.body).toEqual([{ code: 403, description: "api_key: not a valid client key (unknown or revoked)" }]);
    await expectXmlErrors(await request(world.app).post("/open311/v2/requests.xml").type("form").send({ service_code: "roads" }), 403);
  });

  it.each([
    ["PUT", "/open311/v2/services.json"],
    ["DELETE", "/open311/v2/requests/10427.json"],
    ["POST", "/open311/v2/services.json"],
  ] as const)("answers %s %s 404 in its format", async (method, path) => {
    const res = await request(world.app)[method === "PUT" ? "put" : method === "DELETE" ? "delete" : "post"](path);
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    assertValid("errors", res.body);
  });

  it("answers reads 403 when OPEN311_PUBLIC_READ is false (discovery stays open)", async () => {
    const app = createApp({ ...world.deps, open311: { ...open311Defaults(PUBLIC_BASE_URL), publicRead: false } });
    for (const path of ["/open311/v2/services", "/open311/v2/services/roads", "/open311/v2/requests", "/open311/v2/requests/10427"]) {
      await expectErrors(path, 403, /^api_key: reading through Open311 needs a client key from the municipality$/, app);
    }
    expect((await getBoth(app, "/open311/v2/discovery", "discovery")).status).toBe(200);
  });

  it("answers 429 past the per-address read budget, in the format asked for, and other addresses still read", async () => {
    const app = createApp({ ...world.deps, open311: { ...open311Defaults(PUBLIC_BASE_URL), readsPerMinute: 3 } });
    const from = (ip: string, path: string) => request(app).get(path).set("X-Forwarded-For", ip);
    for (let i = 0; i < 3; i++) expect((await from("203.0.113.7", "/open311/v2/services.json")).status).toBe(200);
    const json = await from("203.0.113.7", "/open311/v2/services.json");
    expect(json.status).toBe(429);
    expect(json.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(json.headers["retry-after"]).toMatch(/^\d+$/);
    expect(json.body).toEqual([{ code: 429, description: expect.stringMatching(/^Too many requests: at most 3 a minute/) }]);
    await expectXmlErrors(await from("203.0.113.7", "/open311/v2/requests.xml"), 429);
    expect((await from("203.0.113.8", "/open311/v2/services.json")).status).toBe(200);
  });

  it("answers an unexpected failure 500 in its format, and logs the path without the query (it may hold a key)", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "error" }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const brokenDb = new Proxy(world.db, {
      get: (target, name, receiver) => (name === "category" ? { findMany: () => Promise.reject(new Error("database on fire")) } : Reflect.get(target, name, receiver)),
    });
    const app = createApp({ ...world.deps, db: brokenDb, logger });
    const { status, json, xml } = await getBoth(app, "/open311/v2/services?api_key=o311_secret", "errors");
    expect(status).toBe(500);
    expect(json).toEqual([{ code: 500, description: "Internal server error" }]);
    expect(xml).not.toContain("fire");
    expect(lines.join("")).toContain('"path":"/open311/v2/services.json"');
    expect(lines.join("")).not.toContain("o311_secret");
  });

  it("never answers HTML, whatever comes", async () => {
    const paths = ["/open311/v2/x", "/open311/v2/services.json?locale=%00", "/open311/v2/requests.json?start_date=%3Cscript%3E", "/open311/v2/services/%2e%2e.json", "/open311/v2/requests/1.json"];
    for (const path of paths) {
      const res = await request(world.app).get(path).set("Accept", "text/html");
      expect(res.headers["content-type"], path).toMatch(OPEN311_CONTENT_TYPE);
      expect(res.text, path).not.toMatch(/<html|<!doctype/i);
    }
  });
});

describe("Open311 edges a client may hit", () => {
  it("takes a blank jurisdiction_id as absent", async () => {
    expect((await request(world.app).get("/open311/v2/services.json?jurisdiction_id=%20")).status).toBe(200);
  });

  it("accepts 90 Beirut calendar days across the autumn clock change", async () => {
    expect((await request(world.app).get("/open311/v2/requests.json?start_date=2026-08-01&end_date=2026-10-29")).status).toBe(200);
  });

  it("answers a browser's preflight for reads", async () => {
    const res = await request(world.app).options("/open311/v2/services.json").set("Origin", "https://town.example.org").set("Access-Control-Request-Method", "GET");
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["access-control-allow-methods"]).toBe("GET, HEAD");
  });
});
