import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { TicketChangeResponse, TicketDetail } from "../../../src/http/api/apiSchemas.js";
import { createApiWorld, freshPhone, REQUESTS, residentFiles, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;
beforeAll(async () => {
  world = await createApiWorld();
});
afterAll(async () => {
  await world.drop();
});

const pothole = async () => residentFiles(world.app, "sms", freshPhone(), REQUESTS.potholeBySms);
const historyOf = async (reference: number) => TicketDetail.parse((await world.api.get(world.tokens.hala, `/tickets/${reference}`)).body).history;
const statusChanges = async (reference: number) => (await historyOf(reference)).filter((e) => e.kind === "status_changed" || e.kind === "public_note").map((e) => ({ kind: e.kind, data: e.data }));
const notices = (reference: number) => world.db.message.count({ where: { ticket: { reference }, kind: "notification" } });
const setStatus = (reference: number, body: object) => world.api.post(world.tokens.rania, `/tickets/${reference}/status`, body);

describe("POST /api/v1/tickets/:reference/status with a publicNote", () => {
  it("stores the trimmed note with the change; the resident's notice does not carry it", async () => {
    const reference = await pothole();
    const res = await setStatus(reference, { status: "resolved", publicNote: "  Pothole filled on 12 March.  " });
    expect(res.status).toBe(200);
    const body = TicketChangeResponse.parse(res.body);
    expect(body.ticket.status).toBe("resolved");
    const notice = await world.db.message.findUniqueOrThrow({ where: { id: body.delivery!.messageId } });
    expect(notice.body).toBe(`تمت معالجة طلبك #${reference}. إن بقيت المشكلة، أرسل 1.`);
    expect(await statusChanges(reference)).toEqual([{ kind: "status_changed", data: { from: "new", to: "resolved", publicNote: "Pothole filled on 12 March." } }]);
  });

  it("with the current status records only the note: no notice, no delivery", async () => {
    const reference = await pothole();
    await setStatus(reference, { status: "resolved" });
    const res = await setStatus(reference, { status: "resolved", publicNote: "Asphalt follows next week." });
    expect(res.status).toBe(200);
    expect(res.body.delivery).toBeUndefined();
    expect(await notices(reference)).toBe(1);
    expect((await statusChanges(reference)).at(-1)).toEqual({ kind: "public_note", data: { text: "Asphalt follows next week." } });
  });

  it("the current status without a note (or with a blank one) changes nothing", async () => {
    const reference = await pothole();
    await setStatus(reference, { status: "in_progress" });
    const before = await world.db.ticketEvent.count({ where: { ticket: { reference } } });
    for (const body of [{ status: "in_progress" }, { status: "in_progress", publicNote: "  " }, { status: "in_progress", publicNote: "" }]) {
      expect((await setStatus(reference, body)).status).toBe(200);
    }
    expect(await world.db.ticketEvent.count({ where: { ticket: { reference } } })).toBe(before);
  });

  it.each([
    ["longer than 1,000 characters", "x".repeat(1001), "Invalid request body: publicNote: must be at most 1000 characters"],
    ["with a control character", "bell \u0007", "Invalid request body: publicNote: must not contain control characters (line breaks and tabs are fine)"],
    ["of invisible characters only", "\u200b\u200b", "The public note has no visible text"],
    ["not a string", 42, "Invalid request body: publicNote: Invalid input: expected string, received number"],
  ])("a note %s is a 400 and changes nothing", async (_what, publicNote, error) => {
    const reference = await pothole();
    const res = await setStatus(reference, { status: "resolved", publicNote });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
    expect(await statusChanges(reference)).toEqual([]);
    expect(await notices(reference)).toBe(0);
  });

  it("line breaks are kept", async () => {
    const reference = await pothole();
    await setStatus(reference, { status: "in_progress", publicNote: "Crew booked.\nExpect noise on Tuesday." });
    expect((await statusChanges(reference)).at(-1)?.data).toMatchObject({ publicNote: "Crew booked.\nExpect noise on Tuesday." });
  });

  it("is documented in the OpenAPI document", async () => {
    const Document = z.object({
      components: z.object({
        schemas: z.object({
          StatusRequest: z.object({ properties: z.object({ publicNote: z.object({ maxLength: z.number(), description: z.string() }) }), required: z.array(z.string()) }),
        }),
      }),
    });
    const schema = Document.parse((await world.api.get(world.tokens.hala, "/openapi.json")).body).components.schemas.StatusRequest;
    expect(schema.properties.publicNote.maxLength).toBe(1000);
    expect(schema.properties.publicNote.description).toContain("never sent to the resident");
    expect(schema.required).toEqual(["status"]);
  });
});
