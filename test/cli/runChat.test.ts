import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChatLine, runChat } from "../../src/cli/runChat.js";
import { createI18n } from "../../src/i18n/createI18n.js";
import { createTestWorld } from "../support/testApp.js";

const t = createI18n().getFixedT("en");
type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

async function chat(channel: "sms" | "whatsapp", from: string, lines: string[]): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = "";
  output.on("data", (d: Buffer) => (printed += d.toString()));
  const done = runChat({ inbox: world.inbox, channel, from, input, output, t });
  input.end(lines.map((l) => `${l}\n`).join(""));
  await done;
  return printed;
}

describe("npm run chat", () => {
  it("files a request by SMS in Arabic and prints each reply's segment count", async () => {
    const printed = await chat("sms", "+96171555001", ["مرحبا", "1", "2", "جورة كبيرة قدام البيت", "قرب الجامع", "1", "/quit", "never read"]);
    expect(printed).toContain("bot> أهلاً بكم في خدمة بلدية قب الياس.");
    expect(printed).toContain("[SMS: 2 segments, UCS-2, 90 characters]");
    expect(printed).toMatch(/bot> سجلنا طلبك #\d{5}\./);
    expect(printed).not.toContain("never read");
    expect(await world.db.ticket.count({ where: { resident: { phone: "+96171555001" } } })).toBe(1);
  });

  it("simulates a WhatsApp pin and photo", async () => {
    const printed = await chat("whatsapp", "+96171555002", ["huge pothole on the main road", "1", "/location 33.79 35.82 Town square", "/photo"]);
    expect(printed).toContain("Location received.");
    expect(printed).toContain("Photo received.");
    expect(printed).toContain("Pin: Town square");
    expect(printed).not.toContain("[SMS:");
  });

  it("explains commands that do not fit", () => {
    expect(parseChatLine("/location north", "whatsapp", t)).toEqual({ kind: "say", text: "Usage: /location 33.79 35.82 [label]" });
    expect(parseChatLine("/photo", "sms", t)).toMatchObject({ kind: "say", text: expect.stringContaining("SMS cannot carry") });
    expect(parseChatLine("/dance", "sms", t)).toEqual({ kind: "say", text: "Unknown command /dance. Type /help." });
    expect(parseChatLine("/voice", "whatsapp", t)).toMatchObject({ kind: "message", event: { media: [{ contentType: "audio/ogg" }] } });
  });
});
