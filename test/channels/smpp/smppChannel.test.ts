import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { InboundMessage } from "../../../src/inbox/inboundMessage.js";
import type { DeliveryReport, OutboundRequest } from "../../../src/channels/sender.js";
import { decodeText, splitUserData } from "../../../src/channels/smpp/encoding.js";
import { residentNumber, smppChannel, type SmppChannel, type SmppHandlers, type SmppOptions } from "../../../src/channels/smpp/smppChannel.js";
import { smpp, STATUS } from "../../../src/channels/smpp/smppLibrary.js";
import { deferred, FakeSmsc, septets, ucs2, until } from "./fakeSmsc.js";

const START = Date.parse("2026-12-01T10:00:00Z");

let smsc: FakeSmsc;
let channel: SmppChannel | null;
let messages: InboundMessage[];
let reports: DeliveryReport[];
let sleeps: number[];
let time: number;

beforeEach(async () => {
  smsc = await FakeSmsc.start();
  channel = null;
  messages = [];
  reports = [];
  sleeps = [];
  time = START;
});
afterEach(async () => {
  await channel?.stop();
  await smsc.close();
});

const collect: SmppHandlers = {
  async onMessage(message) {
    messages.push(message);
  },
  async onReceipt(report) {
    reports.push(report);
  },
};

/**
 * A channel on the fake SMSC with small timeouts. Its clock stands still but for its sleeps, which
 * return at once and move it on: throttling backoff and pacing are counted, never waited for.
 */
function open(overrides: Partial<SmppOptions> = {}, handlers: SmppHandlers = collect): SmppChannel {
  channel = smppChannel(
    {
      url: overrides.url ?? smsc.url,
      systemId: "baladiya",
      password: "secret",
      systemType: "bot",
      sourceAddr: "1555",
      perSecond: 1000,
      enquireLinkMs: 60_000,
      reconnect: { minMs: 10, maxMs: 40 },
      responseTimeoutMs: 400,
      partTimeoutMs: 300,
      ...overrides,
    },
    handlers,
    {
      logger: pino({ level: "silent" }),
      clock: () => new Date(time),
      sleep: async (ms, signal) => {
        signal?.throwIfAborted();
        sleeps.push(ms);
        time += ms;
      },
    },
  );
  return channel;
}

async function bound(overrides: Partial<SmppOptions> = {}, handlers: SmppHandlers = collect): Promise<SmppChannel> {
  const opened = open(overrides, handlers);
  opened.start();
  await until(() => opened.state().status === "bound", 2000, "bind");
  return opened;
}

const sms = (body: string, overrides: Partial<OutboundRequest> = {}): OutboundRequest => ({ outboxId: 7, channel: "sms", to: "+96170123456", body, attempt: 1, ...overrides });

/** The text of the submit_sm the SMSC got, parts joined in order. */
function submittedText(pdus: smpp.PDU[]): string {
  return decodeText(Buffer.concat(pdus.map((p) => (p.esm_class === 0x40 ? splitUserData(p.short_message as Buffer).body : (p.short_message as Buffer)))), pdus[0]?.data_coding as number);
}

const ARABIC_LONG =
  "مرحبا، نود إعلامكم بأن فرق البلدية ستقوم بأعمال صيانة لشبكة المياه في الحي الشرقي يوم الثلاثاء من الساعة الثامنة صباحا حتى الثانية ظهرا. نعتذر عن الإزعاج ونشكر تعاونكم الدائم معنا.";

describe("binding", () => {
  it("binds as an SMPP 3.4 transceiver with the system id, password and system type", async () => {
    const c = await bound();
    expect(smsc.binds).toEqual([{ systemId: "baladiya", password: "secret", systemType: "bot", interfaceVersion: 0x34, accepted: true }]);
    expect(c.state()).toEqual({ status: "bound", since: new Date(START) });
  });

  it("keeps trying with backoff when the password is wrong, showing why", async () => {
    smsc.password = "other";
    const c = open();
    c.start();
    await until(() => smsc.binds.length >= 3, 3000, "three binds");
    expect(smsc.binds.every((b) => !b.accepted)).toBe(true);
    expect(["disconnected", "connecting"]).toContain(c.state().status);
    expect(c.state().lastError).toContain("ESME_RINVPASWD");
    // Once the SMSC takes the password, the channel binds by itself.
    smsc.password = "secret";
    await until(() => c.state().status === "bound", 2000, "bind");
    expect(c.state().lastError).toBeUndefined();
  });

  it("reports disconnected with the network error when no SMSC listens, and connects once one does", async () => {
    const url = smsc.url;
    const port = Number(new URL(url).port);
    await smsc.close();
    const c = open({ url });
    c.start();
    await until(() => c.state().lastError !== undefined, 2000, "an error");
    expect(["disconnected", "connecting"]).toContain(c.state().status);
    expect(c.state().lastError).toMatch(/ECONNREFUSED/);
    smsc = await FakeSmsc.start(port);
    await until(() => c.state().status === "bound", 2000, "bind");
  });

  it("refuses a url that is not smpp:// at creation", () => {
    expect(() => open({ url: "http://smsc.example:2775" })).toThrow(/smpp:\/\//);
    channel = null;
  });

  it("refuses a source TON or NPI that does not fit in an octet at creation", () => {
    expect(() => open({ sourceTon: 256 })).toThrow(/sourceTon/);
    expect(() => open({ sourceNpi: -1 })).toThrow(/sourceNpi/);
    channel = null;
  });
});

describe("keeping the link", () => {
  it("answers the SMSC's enquire_link", async () => {
    await bound();
    const response = await smsc.request("enquire_link");
    expect(response.command).toBe("enquire_link_resp");
    expect(response.command_status).toBe(0);
  });

  it("sends enquire_link, and reconnects when the SMSC stops answering them", async () => {
    await bound({ enquireLinkMs: 30, responseTimeoutMs: 100 });
    await until(() => smsc.received("enquire_link").length >= 2, 2000, "enquire_link");
    smsc.answerEnquireLink = false;
    await until(() => smsc.binds.length >= 2, 3000, "a second bind");
    expect(smsc.connections).toBeGreaterThanOrEqual(2);
  });

  it("answers an unknown command with generic_nack", async () => {
    await bound();
    const header = Buffer.alloc(16);
    header.writeUInt32BE(16, 0);
    header.writeUInt32BE(0x00000999, 4);
    header.writeUInt32BE(0, 8);
    header.writeUInt32BE(4242, 12);
    const response = await smsc.writeRaw(header, 4242);
    expect(response.command).toBe("generic_nack");
    expect(response.command_status).toBe(STATUS.RINVCMDID);
  });

  it("answers the SMSC's unbind, then binds again", async () => {
    await bound();
    const response = await smsc.request("unbind");
    expect(response.command).toBe("unbind_resp");
    await until(() => smsc.binds.length === 2, 2000, "a second bind");
    await until(() => channel?.state().status === "bound", 2000, "bound again");
  });
});

describe("residents' messages", () => {
  it("hands over a GSM-7 message with extension characters", async () => {
    await bound();
    // "Hi [1] €5": [ and ] and € are ESC + a septet.
    const text = Buffer.from([0x48, 0x69, 0x20, 0x1b, 0x3c, 0x31, 0x1b, 0x3e, 0x20, 0x1b, 0x65, 0x35]);
    const response = await smsc.deliver({ source_addr_ton: 1, source_addr: "96170123456", destination_addr: "1555", data_coding: 0, short_message: text });
    expect(response.command_status).toBe(0);
    expect(messages).toEqual([
      { channel: "sms", route: "smpp", providerMessageId: expect.stringMatching(/^smpp-[\w-]{16}$/), from: "+96170123456", text: "Hi [1] €5", media: [], receivedAt: new Date(START) },
    ]);
  });

  it("hands over an Arabic UCS-2 message with an emoji", async () => {
    await bound();
    const response = await smsc.deliver({ source_addr_ton: 2, source_addr: "70123456", data_coding: 8, short_message: ucs2("شكرا 👍") });
    expect(response.command_status).toBe(0);
    expect(messages.map((m) => [m.from, m.text])).toEqual([["+96170123456", "شكرا 👍"]]);
  });

  it("reads a message carried in message_payload", async () => {
    await bound();
    await smsc.deliver({ source_addr: "96170123456", data_coding: 8, short_message: Buffer.alloc(0), message_payload: ucs2(ARABIC_LONG) });
    expect(messages.map((m) => m.text)).toEqual([ARABIC_LONG]);
  });

  it("reads a message that comes as data_sm", async () => {
    await bound();
    const response = await smsc.request("data_sm", { source_addr: "96170123456", data_coding: 8, message_payload: ucs2("مرحبا") });
    expect([response.command, response.command_status]).toEqual(["data_sm_resp", 0]);
    expect(messages.map((m) => m.text)).toEqual(["مرحبا"]);
  });

  it("answers only once onMessage resolved, and asks for redelivery when it rejects", async () => {
    const gate = deferred();
    let calls = 0;
    await bound({}, { ...collect, onMessage: () => (++calls === 1 ? gate.promise : Promise.reject(new Error("database is locked"))) });
    let answered = false;
    const first = smsc.deliver({ source_addr: "96170123456", short_message: septets("1") }).then((r) => ((answered = true), r));
    await until(() => calls === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(answered).toBe(false);
    gate.resolve();
    expect((await first).command_status).toBe(0);
    const second = await smsc.deliver({ source_addr: "96170123456", short_message: septets("2") });
    expect(second.command_status).toBe(STATUS.RX_T_APPN);
  });

  it("gives a message the SMSC delivers again after a temporary error the same providerMessageId", async () => {
    let fail = true;
    await bound({}, { ...collect, onMessage: async (m) => (messages.push(m), fail ? Promise.reject(new Error("busy")) : undefined) });
    expect((await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") })).command_status).toBe(STATUS.RX_T_APPN);
    fail = false;
    expect((await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") })).command_status).toBe(0);
    // The resident sends "1" again: a new message.
    expect((await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") })).command_status).toBe(0);
    const [a, b, c] = messages.map((m) => m.providerMessageId);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it("gives a copy the SMSC sends while the first is still being handled (our answer is late) the same providerMessageId", async () => {
    const gate = deferred();
    let calls = 0;
    await bound({}, { ...collect, onMessage: (m) => (messages.push(m), ++calls === 1 ? gate.promise : Promise.resolve()) });
    const message = { source_addr: "96170123456", short_message: septets("3") };
    const first = smsc.deliver(message);
    await until(() => calls === 1);
    const copy = smsc.deliver(message);
    await until(() => calls === 2);
    expect(messages[1]?.providerMessageId).toBe(messages[0]?.providerMessageId);
    expect((await copy).command_status).toBe(0);
    gate.resolve();
    expect((await first).command_status).toBe(0);
    // Both answered: the resident's next "3" is a new message.
    await smsc.deliver(message);
    expect(messages[2]?.providerMessageId).not.toBe(messages[0]?.providerMessageId);
  });

  it.each([
    ["70123456", 0, "+96170123456"],
    ["96170123456", 0, "+96170123456"],
    ["96170123456", 1, "+96170123456"],
    ["70123456", 1, "+96170123456"],
    ["+96170123456", 0, "+96170123456"],
    ["0096170123456", 0, "+96170123456"],
    ["03123456", 2, "+9613123456"],
    ["33612345678", 1, "+33612345678"],
    ["Alfa", 5, null],
  ])("reads the sender %s (TON %i) as %s", (address, ton, expected) => {
    expect(residentNumber(address, ton)).toBe(expected);
  });
});

/** The three parts of ARABIC_LONG (67 code units each), as an SMSC delivers them. */
function arabicParts(): Buffer[] {
  const units = ARABIC_LONG.length;
  expect(units).toBeGreaterThan(134);
  expect(units).toBeLessThanOrEqual(201);
  return [ARABIC_LONG.slice(0, 67), ARABIC_LONG.slice(67, 134), ARABIC_LONG.slice(134)].map(ucs2);
}

const CONCATENATED: Array<[string, (seq: number) => Record<string, unknown>]> = [
  ["a UDH with an 8-bit reference", (seq) => ({ esm_class: 0x40, short_message: Buffer.concat([Buffer.from([5, 0, 3, 0x2a, 3, seq]), arabicParts()[seq - 1] as Buffer]) })],
  ["a UDH with a 16-bit reference", (seq) => ({ esm_class: 0x40, short_message: Buffer.concat([Buffer.from([6, 8, 4, 0x12, 0x34, 3, seq]), arabicParts()[seq - 1] as Buffer]) })],
  ["sar_ TLVs", (seq) => ({ short_message: arabicParts()[seq - 1], sar_msg_ref_num: 0x1234, sar_total_segments: 3, sar_segment_seqnum: seq })],
];

describe("long messages", () => {
  it.each(CONCATENATED)("hands over an Arabic message in 3 parts with %s as one, in order, answering every part after onMessage resolved", async (_name, part) => {
    const gate = deferred();
    const events: string[] = [];
    await bound({}, { ...collect, onMessage: (m) => (messages.push(m), events.push("onMessage"), gate.promise.then(() => void events.push("resolved"))) });
    // Out of order, part 1 twice.
    const responses = [3, 1, 2, 1].map((seq) => smsc.deliver({ source_addr: "96170123456", data_coding: 8, ...part(seq) }).then((r) => (events.push(`answer ${seq}`), r)));
    await until(() => events.includes("onMessage"));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(events).toEqual(["onMessage"]);
    gate.resolve();
    const answered = await Promise.all(responses);
    expect(answered.map((r) => r.command_status)).toEqual([0, 0, 0, 0]);
    expect(events.slice(0, 2)).toEqual(["onMessage", "resolved"]);
    expect(events.slice(2).sort()).toEqual(["answer 1", "answer 1", "answer 2", "answer 3"]);
    expect(messages.map((m) => m.text)).toEqual([ARABIC_LONG]);
  });

  it("asks for every part again when onMessage rejects", async () => {
    await bound({}, { ...collect, onMessage: () => Promise.reject(new Error("busy")) });
    const part = CONCATENATED[0]?.[1] ?? (() => ({}));
    const answered = await Promise.all([1, 2, 3].map((seq) => smsc.deliver({ source_addr: "96170123456", data_coding: 8, ...part(seq) })));
    expect(answered.map((r) => r.command_status)).toEqual([STATUS.RX_T_APPN, STATUS.RX_T_APPN, STATUS.RX_T_APPN]);
  });

  it("answers the parts of a message that never completes with a temporary error", async () => {
    await bound({ partTimeoutMs: 50 });
    const part = CONCATENATED[0]?.[1] ?? (() => ({}));
    const answered = await Promise.all([1, 3].map((seq) => smsc.deliver({ source_addr: "96170123456", data_coding: 8, ...part(seq) })));
    expect(answered.map((r) => r.command_status)).toEqual([STATUS.RX_T_APPN, STATUS.RX_T_APPN]);
    expect(messages).toEqual([]);
  });

  it("answers OK at once a part delivered again after its message was handled", async () => {
    await bound();
    const part = CONCATENATED[0]?.[1] ?? (() => ({}));
    await Promise.all([1, 2, 3].map((seq) => smsc.deliver({ source_addr: "96170123456", data_coding: 8, ...part(seq) })));
    const again = await smsc.deliver({ source_addr: "96170123456", data_coding: 8, ...part(2) });
    expect(again.command_status).toBe(0);
    expect(messages).toHaveLength(1);
  });
});

describe("sending", () => {
  it("sends a short GSM-7 text as one submit_sm", async () => {
    const c = await bound();
    const result = await c.sender.send(sms("Your request 1042 is resolved. Thank you!"));
    expect(result).toEqual({ status: "sent", providerMessageId: "1a2b01" });
    const [pdu] = smsc.received("submit_sm");
    expect(pdu).toMatchObject({ source_addr: "1555", source_addr_ton: 3, source_addr_npi: 0, destination_addr: "96170123456", dest_addr_ton: 1, dest_addr_npi: 1, esm_class: 0, registered_delivery: 1, data_coding: 0 });
    expect(submittedText(smsc.received("submit_sm"))).toBe("Your request 1042 is resolved. Thank you!");
  });

  it("sends a long GSM-7 text in parts with a concatenation UDH", async () => {
    const c = await bound();
    const body = `${"Water cuts on Tuesday {8-14h} in [east] district ~ sorry! ".repeat(4)}€`;
    const result = await c.sender.send(sms(body));
    const pdus = smsc.received("submit_sm");
    expect(pdus).toHaveLength(2);
    expect(result).toEqual({ status: "sent", providerMessageId: "1a2b01" });
    const udhs = pdus.map((p) => [...(p.short_message as Buffer).subarray(0, 6)]);
    const ref = udhs[0]?.[3];
    expect(udhs).toEqual([
      [5, 0, 3, ref, 2, 1],
      [5, 0, 3, ref, 2, 2],
    ]);
    expect(pdus.map((p) => [p.esm_class, p.data_coding, p.registered_delivery])).toEqual([
      [0x40, 0, 1],
      [0x40, 0, 1],
    ]);
    // 153 septets at most after the UDH, unpacked: one octet per septet.
    expect(pdus.every((p) => (p.short_message as Buffer).length <= 6 + 153)).toBe(true);
    expect(submittedText(pdus)).toBe(body);
  });

  it("sends a long Arabic text as UCS-2 in 3 parts", async () => {
    const c = await bound();
    await c.sender.send(sms(ARABIC_LONG));
    const pdus = smsc.received("submit_sm");
    expect(pdus.map((p) => [p.data_coding, p.esm_class, (p.short_message as Buffer)[5], (p.short_message as Buffer)[4]])).toEqual([
      [8, 0x40, 1, 3],
      [8, 0x40, 2, 3],
      [8, 0x40, 3, 3],
    ]);
    expect(pdus.every((p) => (p.short_message as Buffer).length <= 6 + 134)).toBe(true);
    expect(submittedText(pdus)).toBe(ARABIC_LONG);
  });

  it("submits again while the SMSC throttles, each part accepted once", async () => {
    const c = await bound({ responseTimeoutMs: 5000 });
    const tries = new Map<number, number>();
    smsc.onSubmit = (pdu, n) => {
      const seq = (pdu.short_message as Buffer)[5] ?? 0;
      tries.set(seq, (tries.get(seq) ?? 0) + 1);
      return (tries.get(seq) ?? 0) <= 2 ? { status: STATUS.RTHROTTLED } : { messageId: `id-${n}` };
    };
    const result = await c.sender.send(sms(ARABIC_LONG));
    expect(result).toEqual({ status: "sent", providerMessageId: "id-3" });
    expect([...tries.entries()].sort()).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(sleeps.filter((ms) => ms >= 1000)).toEqual([1000, 2000, 1000, 2000, 1000, 2000]);
  });

  it("gives up on a throttling SMSC within the response timeout: failed, retryable", async () => {
    const c = await bound({ responseTimeoutMs: 5000 });
    smsc.onSubmit = () => ({ status: STATUS.RMSGQFUL });
    const result = await c.sender.send(sms("hello"));
    expect(result).toMatchObject({ status: "failed", retryable: true, code: "ESME_RMSGQFUL" });
    expect(result).not.toHaveProperty("ambiguous");
    // 1 s + 2 s fit in 5 s, 4 s more would not.
    expect(smsc.received("submit_sm")).toHaveLength(3);
  });

  it.each([
    [STATUS.RINVDSTADR, false, "ESME_RINVDSTADR"],
    [STATUS.RSYSERR, true, "ESME_RSYSERR"],
  ])("reports the SMSC's refusal %i as failed (retryable: %s)", async (status, retryable, code) => {
    const c = await bound();
    smsc.onSubmit = () => ({ status });
    expect(await c.sender.send(sms("hello"))).toEqual({ status: "failed", retryable, code, message: expect.stringContaining(code) });
  });

  it("reports a refusal of a later part as the refusal, not ambiguous: the message is not at the SMSC", async () => {
    const c = await bound();
    smsc.onSubmit = (_pdu, n) => (n === 2 ? { status: STATUS.RINVDSTADR } : { messageId: `id-${n}` });
    expect(await c.sender.send(sms(ARABIC_LONG))).toEqual({ status: "failed", retryable: false, code: "ESME_RINVDSTADR", message: expect.any(String) });
    expect(smsc.received("submit_sm")).toHaveLength(2);
  });

  it("after a later part was refused for a while, sends only the parts not yet accepted, with the same reference", async () => {
    const c = await bound({ responseTimeoutMs: 5000 });
    let refuse = true;
    smsc.onSubmit = (pdu, n) => ((pdu.short_message as Buffer)[5] === 2 && refuse ? { status: STATUS.RTHROTTLED } : { messageId: `id-${n}` });
    const request = sms(ARABIC_LONG);
    const first = await c.sender.send(request);
    expect(first).toMatchObject({ status: "failed", retryable: true, code: "ESME_RTHROTTLED" });
    expect(first).not.toHaveProperty("ambiguous");
    expect(await c.sender.findAccepted(request, new Date(START), new Set())).toBeNull();

    refuse = false;
    expect(await c.sender.send(request)).toEqual({ status: "sent", providerMessageId: "id-1" });
    const pdus = smsc.received("submit_sm");
    const udhs = pdus.map((p) => [...(p.short_message as Buffer).subarray(0, 6)]);
    const ref = udhs[0]?.[3];
    // Part 1 once; part 2 three times refused, then accepted; part 3.
    expect(udhs).toEqual([1, 2, 2, 2, 2, 3].map((seq) => [5, 0, 3, ref, 3, seq]));
    expect(submittedText([pdus[0], pdus[4], pdus[5]] as smpp.PDU[])).toBe(ARABIC_LONG);
    expect(await c.sender.findAccepted(request, new Date(START), new Set())).toBe("id-1");
    // The outbox asks again (it should not): the SMSC has the whole message, nothing goes out again.
    expect(await c.sender.send(request)).toEqual({ status: "sent", providerMessageId: "id-1" });
    expect(smsc.received("submit_sm")).toHaveLength(6);
    // Another try of the row (staff sent it again) is a new message.
    expect(await c.sender.send({ ...request, attempt: 2 })).toMatchObject({ status: "sent" });
    const again = smsc.received("submit_sm").slice(6);
    expect(again.map((p) => (p.short_message as Buffer)[5])).toEqual([1, 2, 3]);
    expect((again[0]?.short_message as Buffer)[3]).not.toBe(ref);
  });

  it("fails retryable, not ambiguous, without a bind", async () => {
    const c = open();
    expect(await c.sender.send(sms("hello"))).toEqual({ status: "failed", retryable: true, code: "not_bound", message: expect.any(String) });
  });

  it("refuses what SMPP cannot carry", async () => {
    const c = await bound();
    expect(await c.sender.send(sms("hi", { channel: "whatsapp" }))).toMatchObject({ status: "failed", retryable: false, code: "unsupported_channel" });
    expect(await c.sender.send(sms("hi", { to: "whatsapp:+96170123456" }))).toMatchObject({ status: "failed", retryable: false, code: "invalid_address" });
    expect(smsc.received("submit_sm")).toHaveLength(0);
  });

  it("keeps at most `window` submit_sm waiting for their response", async () => {
    const c = await bound({ window: 2 });
    let outstanding = 0;
    let most = 0;
    smsc.onSubmit = () => {
      most = Math.max(most, ++outstanding);
      setTimeout(() => outstanding--, 20);
      return { delayMs: 20 };
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map((outboxId) => c.sender.send(sms(`message ${outboxId}`, { outboxId }))));
    expect(results.every((r) => r.status === "sent")).toBe(true);
    expect(most).toBe(2);
  });

  it("fails a send whose submit_sm cannot be written, without throwing, and frees its window slot", async () => {
    const c = await bound({ window: 1 });
    const toBuffer = smpp.PDU.prototype.toBuffer;
    let broken = 1;
    const spy = vi.spyOn(smpp.PDU.prototype, "toBuffer").mockImplementation(function (this: smpp.PDU) {
      if (this.command === "submit_sm" && broken-- > 0) throw new RangeError("The value of \"value\" is out of range");
      return toBuffer.call(this);
    });
    try {
      const failed = await c.sender.send(sms("one")).catch((error: unknown) => ({ thrown: String(error) }));
      // The one slot of the window is free again.
      const next = await Promise.race([c.sender.send(sms("two", { outboxId: 8 })), new Promise((resolve) => setTimeout(() => resolve("stuck waiting for a window slot"), 1000))]);
      expect(next).toEqual({ status: "sent", providerMessageId: expect.any(String) });
      expect(failed).toMatchObject({ status: "failed", retryable: true, code: "submit_error" });
      expect(failed).not.toHaveProperty("ambiguous");
    } finally {
      spy.mockRestore();
    }
  });

  it("reports a send whose answer came too late as ambiguous, then finds it accepted", async () => {
    const c = await bound({ responseTimeoutMs: 60 });
    smsc.onSubmit = () => ({ messageId: "late-1", delayMs: 150 });
    const request = sms("hello");
    expect(await c.sender.send(request)).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "timeout" });
    expect(await c.sender.findAccepted(request, new Date(START), new Set())).toBeNull();
    await until(() => smsc.seen.length > 0 && c.state().status === "bound" && smsc.received("submit_sm").length === 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await c.sender.findAccepted(request, new Date(START), new Set())).toBe("late-1");
    expect(await c.sender.findAccepted(request, new Date(START), new Set(["late-1"]))).toBeNull();
    expect(await c.sender.findAccepted({ ...request, attempt: 2 }, new Date(START), new Set())).toBeNull();
  });

  it("paces submissions at perSecond: pace waits for the next turn, and each part takes one", async () => {
    const c = await bound({ perSecond: 4 });
    await c.sender.pace?.(sms("one"));
    await c.sender.send(sms("one"));
    expect(sleeps).toEqual([]);
    await c.sender.pace?.(sms("two"));
    expect(sleeps).toEqual([250]);
    await c.sender.send(sms("two"));
    expect(sleeps).toEqual([250]);
    await c.sender.send(sms(ARABIC_LONG));
    expect(sleeps).toEqual([250, 250, 250, 250]);
  });
});

describe("delivery receipts", () => {
  it("maps a receipt with TLVs to the message's status", async () => {
    const c = await bound();
    const sent = await c.sender.send(sms("hello"));
    expect(sent).toEqual({ status: "sent", providerMessageId: "1a2b01" });
    const response = await smsc.deliver({ esm_class: 0x04, source_addr: "96170123456", receipted_message_id: "1a2b01", message_state: 2, short_message: Buffer.alloc(0) });
    expect(response.command_status).toBe(0);
    expect(reports).toEqual([{ providerMessageId: "1a2b01", status: "delivered", outboxId: 7, attempt: 1 }]);
  });

  it("reads the receipt text, with the id in decimal, for any part of a long message", async () => {
    const c = await bound();
    await c.sender.send(sms(ARABIC_LONG));
    // Parts 1a2b01, 1a2b02, 1a2b03 (hex); the receipt text gives 1714946 (= 0x1a2b02).
    const text = (id: string, stat: string, err: string) => septets(`id:${id} sub:001 dlvrd:001 submit date:2612011000 done date:2612011001 stat:${stat} err:${err} text:مرحبا`);
    await smsc.deliver({ esm_class: 0x04, short_message: text("1714946", "DELIVRD", "000") });
    await smsc.deliver({ esm_class: 0x04, short_message: text("1714945", "DELIVRD", "000") });
    await smsc.deliver({ esm_class: 0x04, short_message: text("1714947", "UNDELIV", "034") });
    expect(reports).toEqual([
      { providerMessageId: "1a2b01", status: "sent", outboxId: 7, attempt: 1 },
      { providerMessageId: "1a2b01", status: "sent", outboxId: 7, attempt: 1 },
      { providerMessageId: "1a2b01", status: "undelivered", outboxId: 7, attempt: 1, errorCode: "034", errorMessage: "stat:UNDELIV" },
    ]);
  });

  it("gives a receipt the outbox row and try it is about, even one read together with the submit_sm_resp", async () => {
    const c = await bound();
    smsc.onSubmit = () => ({ messageId: "r-1", then: { esm_class: 0x04, source_addr: "96170123456", receipted_message_id: "r-1", message_state: 8, short_message: Buffer.alloc(0) } });
    expect(await c.sender.send(sms("hello"))).toEqual({ status: "sent", providerMessageId: "r-1" });
    await until(() => reports.length === 1, 2000, "the receipt");
    expect(reports).toEqual([{ providerMessageId: "r-1", status: "failed", outboxId: 7, attempt: 1, errorMessage: "stat:REJECTED" }]);
  });

  it("gives the outbox row to a receipt for a send whose answer came too late (the row has no provider id yet)", async () => {
    const c = await bound({ responseTimeoutMs: 60 });
    smsc.onSubmit = () => ({ messageId: "late-2", delayMs: 150 });
    const request = sms("hello", { outboxId: 41, attempt: 1764583200000 });
    expect(await c.sender.send(request)).toMatchObject({ status: "failed", ambiguous: true });
    // The answer comes (the outbox has not recorded the send: it was ambiguous), then the receipt.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await c.sender.findAccepted(request, new Date(START), new Set())).toBe("late-2");
    await smsc.deliver({ esm_class: 0x04, short_message: septets("id:late-2 sub:001 dlvrd:000 submit date:2612011000 done date:2612011001 stat:REJECTD err:000 text:") });
    expect(reports).toEqual([{ providerMessageId: "late-2", status: "failed", outboxId: 41, attempt: 1764583200000, errorMessage: "stat:REJECTD" }]);
  });

  it("leaves attempt out of the report when the request had none", async () => {
    const c = await bound();
    await c.sender.send(sms("hello", { attempt: undefined }));
    await smsc.deliver({ esm_class: 0x04, receipted_message_id: "1a2b01", message_state: 2, short_message: Buffer.alloc(0) });
    expect(reports).toStrictEqual([{ providerMessageId: "1a2b01", status: "delivered", outboxId: 7 }]);
  });

  it("holds back word that part of a long message went while its other parts wait, but passes on a failure at once", async () => {
    const c = await bound({ responseTimeoutMs: 2000 });
    let refuse = true;
    smsc.onSubmit = (pdu, n) => ((pdu.short_message as Buffer)[5] === 2 && refuse ? { status: STATUS.RTHROTTLED } : { messageId: `p-${n}` });
    const request = sms(ARABIC_LONG);
    expect(await c.sender.send(request)).toMatchObject({ status: "failed", retryable: true });
    // Part 1 delivered: the message as a whole is not (the outbox must not take the row for sent).
    await smsc.deliver({ esm_class: 0x04, receipted_message_id: "p-1", message_state: 2, short_message: Buffer.alloc(0) });
    expect(reports).toEqual([]);
    refuse = false;
    expect(await c.sender.send(request)).toEqual({ status: "sent", providerMessageId: "p-1" });
    // Parts 2 and 3 were p-4 and p-5 (p-2 and p-3 were refusals).
    await smsc.deliver({ esm_class: 0x04, receipted_message_id: "p-4", message_state: 2, short_message: Buffer.alloc(0) });
    await smsc.deliver({ esm_class: 0x04, receipted_message_id: "p-5", message_state: 2, short_message: Buffer.alloc(0) });
    expect(reports).toEqual([
      { providerMessageId: "p-1", status: "sent", outboxId: 7, attempt: 1 },
      { providerMessageId: "p-1", status: "delivered", outboxId: 7, attempt: 1 },
    ]);
  });

  it("passes on at once that a part of a long message failed while its other parts wait", async () => {
    const c = await bound({ responseTimeoutMs: 2000 });
    smsc.onSubmit = (pdu, n) => ((pdu.short_message as Buffer)[5] === 2 ? { status: STATUS.RTHROTTLED } : { messageId: `q-${n}` });
    expect(await c.sender.send(sms(ARABIC_LONG))).toMatchObject({ status: "failed", retryable: true });
    await smsc.deliver({ esm_class: 0x04, receipted_message_id: "q-1", message_state: 8, short_message: Buffer.alloc(0) });
    expect(reports).toEqual([{ providerMessageId: "q-1", status: "failed", outboxId: 7, attempt: 1, errorMessage: "stat:REJECTED" }]);
  });

  it("passes on a receipt for a message it does not know with the id as given", async () => {
    await bound();
    await smsc.deliver({ esm_class: 0x04, short_message: septets("id:77AB sub:001 dlvrd:000 submit date:2612011000 done date:2612011001 stat:EXPIRED err:000 text:") });
    expect(reports).toEqual([{ providerMessageId: "77AB", status: "failed", errorMessage: "stat:EXPIRED" }]);
  });

  it("answers a receipt only after onReceipt resolved, and with a temporary error when it rejects", async () => {
    const gate = deferred();
    let calls = 0;
    await bound({}, { ...collect, onReceipt: () => (++calls === 1 ? gate.promise : Promise.reject(new Error("busy"))) });
    let answered = false;
    const first = smsc.deliver({ esm_class: 0x04, receipted_message_id: "abc", message_state: 2 }).then((r) => ((answered = true), r));
    await until(() => calls === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(answered).toBe(false);
    gate.resolve();
    expect((await first).command_status).toBe(0);
    expect((await smsc.deliver({ esm_class: 0x04, receipted_message_id: "abc", message_state: 2 })).command_status).toBe(STATUS.RX_T_APPN);
  });
});

describe("a dropped connection", () => {
  it("reports a long message cut off midway as ambiguous, sends nothing twice, and recognises the SMSC's redelivery", async () => {
    const c = await bound();
    // The resident's "1" is answered; the SMSC will not have read the answer.
    await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") });
    smsc.onSubmit = (_pdu, n) => (n === 1 ? "hang-up" : { messageId: `id-${n}` });
    const result = await c.sender.send(sms("Water cuts on Tuesday. ".repeat(10)));
    expect(result).toMatchObject({ status: "failed", retryable: true, ambiguous: true, code: "connection_lost" });
    expect(smsc.received("submit_sm")).toHaveLength(1);

    await until(() => smsc.binds.length === 2 && c.state().status === "bound", 2000, "a new bind");
    // The SMSC delivers "1" again on the new connection: the same message. Then the resident sends "1" again.
    await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") });
    await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") });
    const [first, redelivered, anew] = messages.map((m) => m.providerMessageId);
    expect(redelivered).toBe(first);
    expect(anew).not.toBe(first);
    expect(smsc.received("submit_sm")).toHaveLength(1);
  });

  it("does not take a new message for a redelivery once the SMSC had read our answer", async () => {
    const c = await bound({ enquireLinkMs: 20 });
    await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") });
    // An enquire_link written after our answer, and answered: the SMSC read the answer.
    const before = smsc.received("enquire_link").length;
    await until(() => smsc.received("enquire_link").length > before + 1, 2000, "enquire_link");
    smsc.dropAll();
    await until(() => smsc.binds.length === 2 && c.state().status === "bound", 2000, "a new bind");
    await smsc.deliver({ source_addr: "96170123456", short_message: septets("1") });
    const [first, second] = messages.map((m) => m.providerMessageId);
    expect(second).not.toBe(first);
  });

  it("gives a message still being handled when the connection dropped its id again on redelivery", async () => {
    const gate = deferred();
    let calls = 0;
    await bound({}, { ...collect, onMessage: (m) => (messages.push(m), ++calls === 1 ? gate.promise : Promise.resolve()) });
    void smsc.deliver({ source_addr: "96170123456", short_message: septets("2") });
    await until(() => calls === 1);
    smsc.dropAll();
    await until(() => smsc.binds.length === 2 && channel?.state().status === "bound", 2000, "a new bind");
    // The SMSC delivers it again while the first delivery is still in onMessage (the inbox's unique id settles which one counts).
    expect((await smsc.deliver({ source_addr: "96170123456", short_message: septets("2") })).command_status).toBe(0);
    gate.resolve();
    expect(messages.map((m) => m.providerMessageId)).toEqual([messages[0]?.providerMessageId, messages[0]?.providerMessageId]);
  });
});

describe("stopping", () => {
  it("unbinds, and a send waiting for its answer fails retryable", async () => {
    const c = await bound({ responseTimeoutMs: 2000 });
    smsc.onSubmit = () => "silence";
    const sending = c.sender.send(sms("hello"));
    await until(() => smsc.received("submit_sm").length === 1);
    await c.stop();
    expect(await sending).toMatchObject({ status: "failed", retryable: true, ambiguous: true });
    expect(smsc.received("unbind")).toHaveLength(1);
    expect(c.state().status).toBe("stopped");
    expect(await c.sender.send(sms("hello"))).toMatchObject({ status: "failed", retryable: true, code: "stopped" });
    // No reconnection after stop.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(smsc.connections).toBe(1);
  });
});
