import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TicketDetail, TicketList } from "../../../src/http/api/apiSchemas.js";
import { inbound } from "../../support/builders.js";
import { createApiWorld, freshPhone, REQUESTS, residentFiles, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;
const refs = { android: 0, twilio: 0 };

beforeAll(async () => {
  world = await createApiWorld();
  // A pothole reported by SMS through the town's Android phone, then one through Twilio.
  let last = "";
  const phone = freshPhone();
  for (const text of REQUESTS.potholeBySms) last = (await world.inbox(inbound({ from: phone, route: "android", text }))).replies.join("\n");
  refs.android = Number(/#(\d+)/.exec(last)?.[1]);
  refs.twilio = await residentFiles(world.app, "sms", freshPhone(), REQUESTS.potholeBySms);
});
afterAll(async () => {
  await world.drop();
});

describe("the API names the route a ticket and its messages came by", () => {
  it("in the queue", async () => {
    const res = await world.api.get(world.tokens.hala, "/tickets?status=all");
    expect(res.status).toBe(200);
    const tickets = TicketList.parse(res.body).tickets;
    expect(tickets.find((t) => t.reference === refs.android)).toMatchObject({ channel: "sms", route: "android" });
    expect(tickets.find((t) => t.reference === refs.twilio)).toMatchObject({ channel: "sms", route: "twilio" });
  });

  it("in a ticket, its messages and its history", async () => {
    const res = await world.api.get(world.tokens.rania, `/tickets/${refs.android}`);
    expect(res.status).toBe(200);
    const ticket = TicketDetail.parse(res.body);
    expect(ticket).toMatchObject({ channel: "sms", route: "android" });
    expect(ticket.messages.length).toBeGreaterThan(0);
    for (const message of ticket.messages) expect(message.route).toBe("android");
    expect(ticket.history[0]).toMatchObject({ kind: "created", data: { channel: "sms", route: "android" } });
  });

  it("after a change, the ticket returned keeps its route", async () => {
    const res = await world.api.post(world.tokens.rania, `/tickets/${refs.android}/status`, { status: "in_progress" });
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatchObject({ reference: refs.android, route: "android" });
  });

  it("the OpenAPI document lists the route of tickets and messages", async () => {
    const doc = (await world.api.get(world.tokens.hala, "/openapi.json")).body;
    // Tickets can also come from another tool's Open311 request; messages only travel a provider's route.
    for (const [schema, routes] of [
      ["TicketSummary", ["twilio", "android", "smpp", "whatsapp-web", "open311"]],
      ["TicketDetail", ["twilio", "android", "smpp", "whatsapp-web", "open311"]],
      ["ConversationMessage", ["twilio", "android", "smpp", "whatsapp-web"]],
    ] as const) {
      expect(doc.components.schemas[schema].properties.route, schema).toMatchObject({ enum: routes });
      expect(doc.components.schemas[schema].required, schema).toContain("route");
    }
  });
});
