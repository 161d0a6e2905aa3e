import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiToken } from "../../../src/services/apiTokens.js";
import { MUNICIPALITY } from "../../support/testApp.js";
import { createApiWorld, freshPhone, REQUESTS, residentFiles, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;
let reference: number;
beforeAll(async () => {
  world = await createApiWorld();
  reference = await residentFiles(world.app, "sms", freshPhone(), REQUESTS.potholeBySms);
});
afterAll(async () => {
  await world.drop();
});

describe("a request without a valid token is a 401 with a Bearer challenge", () => {
  it.each([
    ["no Authorization header", undefined, /^Missing Authorization header/],
    ["another scheme", "Basic aGFsYTpzZWNyZXQ=", /^Malformed Authorization header/],
    ["Bearer without a token", "Bearer", /^Malformed Authorization header/],
    ["a token with spaces in it", "Bearer bld_abc def", /^Malformed Authorization header/],
    ["a token nobody was given", "Bearer bld_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /^Invalid API token/],
    ["a token of another format", "Bearer ghp_0123456789", /^Invalid API token/],
  ])("%s", async (_case, authorization, message) => {
    const req = request(world.app).get("/api/v1/tickets");
    const res = await (authorization === undefined ? req : req.set("Authorization", authorization));
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="baladiya-api"/);
    expect(res.body).toEqual({ error: expect.stringMatching(message) });
  });

  it("a revoked token stops working at once", async () => {
    const token = await world.tokenFor(world.staff.rania.id, "to revoke");
    expect((await world.api.get(token, "/tickets")).status).toBe(200);
    const record = await world.db.apiToken.findFirstOrThrow({ where: { name: "to revoke" } });
    await world.db.$transaction((tx) => revokeApiToken(tx, MUNICIPALITY, record.id, new Date()));

    const res = await world.api.get(token, "/tickets");
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  it("the token of a deactivated staff member stops working", async () => {
    const token = await world.tokenFor(world.staff.karim.id, "karim's script");
    await world.db.staff.update({ where: { id: world.staff.karim.id }, data: { active: false } });
    try {
      expect((await world.api.get(token, `/tickets/${reference}`)).status).toBe(401);
      expect((await world.api.post(token, `/tickets/${reference}/notes`, { text: "still here?" })).status).toBe(401);
    } finally {
      await world.db.staff.update({ where: { id: world.staff.karim.id }, data: { active: true } });
    }
  });

  it("the token is checked before the body: a bad token with a bad body is still a 401", async () => {
    const res = await request(world.app).post(`/api/v1/tickets/${reference}/notes`).set("Authorization", "Bearer bld_nope").type("json").send("{not json");
    expect(res.status).toBe(401);
  });
});

describe("a valid token", () => {
  it("is accepted, recorded as used, and its answers are not cached", async () => {
    const res = await world.api.get(world.tokens.hala, "/tickets");
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const record = await world.db.apiToken.findFirstOrThrow({ where: { staffId: world.staff.hala.id } });
    expect(record.lastUsedAt).not.toBeNull();
  });

  it("the scheme is case-insensitive, as HTTP says", async () => {
    const res = await request(world.app).get("/api/v1/tickets").set("Authorization", `bearer ${world.tokens.hala}`);
    expect(res.status).toBe(200);
  });
});

describe("outside the ticket routes", () => {
  it("the OpenAPI document needs no token", async () => {
    const res = await request(world.app).get("/api/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
  });

  it.each([
    ["get", "/api/v1/nope"],
    ["delete", "/api/v1/tickets/10427"],
    ["put", "/api/v1/tickets"],
  ] as const)("an unknown route (%s %s) is a JSON 404", async (method, path) => {
    const res = await request(world.app)[method](path).set("Authorization", `Bearer ${world.tokens.hala}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: `Not found: ${method.toUpperCase()} ${path}` });
  });
});
