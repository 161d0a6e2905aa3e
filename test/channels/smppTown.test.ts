import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureRoutes, type ConfiguredRoutes } from "../../src/channels/configureRoutes.js";
import { decodeText, splitUserData } from "../../src/channels/smpp/encoding.js";
import type { smpp } from "../../src/channels/smpp/smppLibrary.js";
import { loadConfig } from "../../src/config.js";
import { drainOutbox } from "../../src/jobs/drainOutbox.js";
import { createTestWorld } from "../support/testApp.js";
import { FakeSmsc, ucs2, until } from "./smpp/fakeSmsc.js";

// A town with an operator short code: residents on feature phones text 1555, the SMSC hands their
// SMS to Baladiya over an SMPP bind, and every answer goes back over the same bind. Everything here
// is the real wiring (configuration, routes, inbox, outbox worker) against an SMSC in this process.

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
let smsc: FakeSmsc;
let routes: ConfiguredRoutes;
/** The SMSC's message id of every part it took, by destination. */
const partIds: Array<{ to: string; id: string }> = [];

beforeAll(async () => {
  world = await createTestWorld();
  smsc = await FakeSmsc.start();
  smsc.onSubmit = (pdu, n) => {
    const id = `5e${n.toString(16).padStart(6, "0")}`;
    partIds.push({ to: String(pdu.destination_addr), id });
    return { messageId: id };
  };
  const config = loadConfig({ SMPP_URL: smsc.url, SMPP_SYSTEM_ID: "baladiya", SMPP_PASSWORD: "secret", SMPP_SOURCE_ADDR: "1555", SMPP_PER_SECOND: "1000" });
  routes = await configureRoutes(config, { logger: pino({ level: "silent" }), db: world.db, inbox: world.inbox, outbox: world.deps.outbox });
  routes.start();
  await until(() => routes.statuses().some((s) => s.route === "smpp" && s.state === "ready"), 3000, "bind");
});
afterAll(async () => {
  await routes.stop();
  await smsc.close();
  await world.drop();
});

const worker = () => ({ db: world.db, senders: routes.senders, logger: pino({ level: "silent" }), outbox: world.deps.outbox });

/** The texts the SMSC was asked to send to a number, parts put back together. */
function textsTo(number: string): string[] {
  const byMessage = new Map<string, smpp.PDU[]>();
  for (const [i, pdu] of smsc.received("submit_sm").entries()) {
    if (pdu.destination_addr !== number) continue;
    const data = pdu.short_message as Buffer;
    const concatenated = pdu.esm_class === 0x40 ? splitUserData(data).concatenation : null;
    const key = concatenated ? `ref-${concatenated.ref}` : `single-${i}`;
    byMessage.set(key, [...(byMessage.get(key) ?? []), pdu]);
  }
  return [...byMessage.values()].map((pdus) =>
    decodeText(Buffer.concat(pdus.map((p) => (p.esm_class === 0x40 ? splitUserData(p.short_message as Buffer).body : (p.short_message as Buffer)))), pdus[0]?.data_coding as number),
  );
}

let counter = 0;
const freshNumber = () => `9617${String(1100000 + ++counter)}`;

/** The resident's SMS as the SMSC delivers it: UCS-2, in parts with a concatenation UDH when long. */
async function texts(from: string, text: string, order: "in order" | "last part first" = "in order") {
  const parts = text.length <= 70 ? [text] : Array.from({ length: Math.ceil(text.length / 67) }, (_, i) => text.slice(i * 67, i * 67 + 67));
  const ref = counter % 256;
  const pdus = parts.map((part, i) => ({
    source_addr: from,
    source_addr_ton: 1,
    source_addr_npi: 1,
    destination_addr: "1555",
    data_coding: 8,
    esm_class: parts.length > 1 ? 0x40 : 0,
    short_message: parts.length > 1 ? Buffer.concat([Buffer.from([5, 0, 3, ref, parts.length, i + 1]), ucs2(part)]) : ucs2(part),
  }));
  if (order === "last part first") pdus.reverse();
  // Every part is answered, and only once the whole message is stored.
  const responses = await Promise.all(pdus.map((pdu) => smsc.deliver(pdu)));
  expect(responses.map((r) => r.command_status)).toEqual(pdus.map(() => 0));
  await drainOutbox(worker());
  return textsTo(from).at(-1) ?? "";
}

const LONG_REPORT =
  "في جورة كبيرة بالطريق العام قدام مدرسة الضيعة، الولاد عم يوقعوا فيها كل يوم الصبح وهني رايحين عالمدرسة، الله يخليكن تصلحوها قبل ما حدا يتأذى";

describe("a resident files a request by SMS through the operator's short code", () => {
  it("a long Arabic message arriving in parts, last part first, is one message; every answer goes back over SMPP", async () => {
    const from = freshNumber();
    expect(LONG_REPORT.length).toBeGreaterThan(134);
    expect(await texts(from, LONG_REPORT, "last part first")).toContain("طرقات وحفر");
    await texts(from, "١");
    await texts(from, "قدام مدرسة الضيعة");
    const filed = await texts(from, "1");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    expect(reference).toBeGreaterThanOrEqual(10000);

    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference }, include: { resident: true } });
    expect(ticket).toMatchObject({ channel: "sms", route: "smpp", description: LONG_REPORT, childRelated: true });
    const residentId = ticket.residentId ?? expect.unreachable("a resident's request has a resident");
    expect(ticket.resident?.phone).toBe(`+${from}`);
    const inbound = await world.db.message.findMany({ where: { residentId, direction: "inbound" } });
    expect(inbound).toHaveLength(4);
    expect(textsTo(from)).toHaveLength(4);
    // Replies are UCS-2 from the short code, with delivery receipts asked for.
    const last = smsc.received("submit_sm").at(-1)!;
    expect(last).toMatchObject({ source_addr: "1555", destination_addr: from, data_coding: 8, registered_delivery: 1 });
  });

  it("the SMSC's delivery receipt marks the answer delivered", async () => {
    const from = freshNumber();
    await texts(from, "marhaba");
    const reply = await world.db.message.findFirstOrThrow({ where: { resident: { phone: `+${from}` }, direction: "outbound" } });
    expect(reply).toMatchObject({ route: "smpp", status: "sent" });
    // One receipt per part (the menu is a two-part SMS): delivered once every part is.
    const parts = partIds.filter((p) => p.to === from);
    expect(parts[0]?.id).toBe(reply.providerMessageId);
    for (const part of parts) {
      const receipt = await smsc.deliver({ esm_class: 0x04, source_addr: from, receipted_message_id: part.id, message_state: 2, short_message: Buffer.alloc(0) });
      expect(receipt.command_status).toBe(0);
    }
    expect(await world.db.message.findUniqueOrThrow({ where: { id: reply.id } })).toMatchObject({ status: "delivered" });
  });

  it("healthz-style state says the bind is ready", () => {
    expect(routes.configured).toEqual(["smpp"]);
    expect(routes.statuses()).toEqual([expect.objectContaining({ route: "smpp", state: "ready" })]);
  });
});
