import request from "supertest";
import { z as zod, type z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRouter } from "../../../src/http/api/apiRouter.js";
import * as schemas from "../../../src/http/api/apiSchemas.js";
import type { OpenApiDocument } from "../../../src/http/api/openApiDocument.js";
import { TicketFilters } from "../../../src/services/ticketQueries.js";
import { createTestWorld } from "../../support/testApp.js";
import { PUBLIC_BASE_URL } from "../../support/twilio.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
let doc: OpenApiDocument;
beforeAll(async () => {
  world = await createTestWorld();
  const res = await request(world.app).get("/api/v1/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  doc = res.body;
});
afterAll(async () => {
  await world.drop();
});

const METHODS = ["get", "post", "patch", "put", "delete"] as const;

/** Every (method, path) the router serves, in OpenAPI's path syntax (`:reference` → `{reference}`). */
function servedRoutes() {
  const router = apiRouter({ ...world.deps, clock: () => new Date() });
  return router.stack.flatMap((layer) => {
    const route = layer.route;
    if (!route) return [];
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    return [...new Set(route.stack.map((l) => l.method))].map((method) => `${method.toUpperCase()} ${path}`);
  });
}

function documentedRoutes() {
  return Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`));
}

function operations() {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = item[method];
      return operation ? [{ path, method, operation, pathParameters: item.parameters ?? [] }] : [];
    }),
  );
}

/** Follows a local JSON pointer such as "#/components/schemas/TicketList". */
function resolve(pointer: string): unknown {
  expect(pointer.startsWith("#/")).toBe(true);
  return pointer
    .slice(2)
    .split("/")
    .reduce<unknown>((node, key) => (typeof node === "object" && node !== null ? Reflect.get(node, key) : undefined), doc);
}

function* refsIn(node: unknown): Generator<string> {
  if (Array.isArray(node)) for (const item of node) yield* refsIn(item);
  else if (typeof node === "object" && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") yield value;
      else yield* refsIn(value);
    }
  }
}

describe("GET /api/v1/openapi.json", () => {
  it("is an OpenAPI 3.1 document with the bearer scheme applied by default", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.servers).toEqual([{ url: `${PUBLIC_BASE_URL}/api/v1` }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });

  it("describes every route the router serves, and nothing it does not", () => {
    const served = servedRoutes();
    expect(served).toContain("GET /tickets/{reference}");
    expect(documentedRoutes().sort()).toEqual(served.sort());
  });

  it("every operation has an id, a summary, a success response with a schema, and the errors it can answer", () => {
    const ids = new Set<string>();
    for (const { path, method, operation, pathParameters } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(typeof operation.operationId, where).toBe("string");
      expect(ids.has(String(operation.operationId)), where).toBe(false);
      ids.add(String(operation.operationId));
      expect(operation.summary, where).toEqual(expect.any(String));
      const responses = Object.keys(Object(operation.responses));
      expect(responses.some((status) => /^2\d\d$/.test(status)), where).toBe(true);
      if (path === "/openapi.json") {
        expect(operation.security, "the document itself is public").toEqual([]);
        continue;
      }
      expect(responses, where).toContain("401");
      if (path.includes("{reference}")) {
        expect(responses, where).toEqual(expect.arrayContaining(["400", "404"]));
        expect(pathParameters, where).toEqual([{ $ref: "#/components/parameters/reference" }]);
      }
      if (method === "post" || method === "patch") {
        expect(operation.requestBody, where).toMatchObject({ required: true, content: { "application/json": { schema: { $ref: expect.stringMatching(/^#\/components\/schemas\//) } } } });
        expect(responses, where).toEqual(expect.arrayContaining(["400", "413"]));
      }
    }
  });

  it("documents every queue filter as a query parameter", () => {
    const list = doc.paths["/tickets"]?.get;
    const names = (Array.isArray(list?.parameters) ? list.parameters : []).map((p: { name: string; in: string; description?: string }) => {
      expect(p.in).toBe("query");
      expect(p.description, p.name).toEqual(expect.any(String));
      return p.name;
    });
    expect(names.sort()).toEqual(Object.keys(TicketFilters.shape).sort());
  });

  it("every $ref points at something in the document", () => {
    const refs = [...refsIn(doc)];
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();
  });

  it("has a schema for every error, and a 401 that names the challenge header", () => {
    expect(doc.components.schemas.Error).toMatchObject({ type: "object", properties: { error: { type: "string" } }, required: ["error"] });
    expect(doc.components.responses.Unauthorized).toMatchObject({ headers: { "WWW-Authenticate": expect.any(Object) } });
  });

  it("its examples are true: each parses with the zod schema the API uses for that component", () => {
    const zodFor: Record<string, z.ZodType> = {
      TicketList: schemas.TicketList,
      TicketDetail: schemas.TicketDetail,
      TicketChangeResponse: schemas.TicketChangeResponse,
      ReplyRequest: schemas.ReplyRequest,
      ReplyResponse: schemas.ReplyResponse,
      NoteRequest: schemas.NoteRequest,
      NoteResponse: schemas.NoteResponse,
      AssignmentRequest: schemas.AssignmentRequest,
      StatusRequest: schemas.StatusRequest,
      RecategorizeRequest: schemas.RecategorizeRequest,
      ChildIndicatorsResponse: schemas.ChildIndicatorsResponse,
      Error: schemas.ErrorResponse,
    };
    const Content = zod.object({
      "application/json": zod
        .object({
          schema: zod.object({ $ref: zod.string().optional() }),
          example: zod.unknown().optional(),
          examples: zod.record(zod.string(), zod.object({ value: zod.unknown() })).optional(),
        })
        .optional(),
    });
    const WithContent = zod.object({ content: Content.optional() });
    const media = [
      ...operations().flatMap(({ path, method, operation }) => [
        { where: `${method} ${path} request`, content: WithContent.parse(operation.requestBody ?? {}).content },
        ...Object.entries(zod.record(zod.string(), zod.unknown()).parse(operation.responses)).map(([status, response]) => ({
          where: `${method} ${path} ${status}`,
          content: WithContent.parse(response).content,
        })),
      ]),
      ...Object.entries(doc.components.responses).map(([name, response]) => ({ where: name, content: WithContent.parse(response).content })),
    ];
    let checked = 0;
    for (const { where, content } of media) {
      const json = content?.["application/json"];
      const schema = json?.schema.$ref && zodFor[json.schema.$ref.replace("#/components/schemas/", "")];
      if (!json || !schema) continue;
      const values = [...(json.example === undefined ? [] : [json.example]), ...Object.values(json.examples ?? {}).map((e) => e.value)];
      for (const value of values) {
        expect(schema.safeParse(value).error?.issues, `${where}: ${JSON.stringify(value)}`).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });
});
