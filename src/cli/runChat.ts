import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { TFunction } from "i18next";
import type { ChannelKind, InboundEvent } from "../conversation/types.js";
import type { Inbox } from "../inbox/handleInbound.js";
import { smsCost } from "../lib/smsSegments.js";

export interface ChatOptions {
  inbox: Inbox;
  channel: ChannelKind;
  from: string;
  input: Readable;
  output: Writable;
  /** Translations of the simulator's own words (locales/{ar,en}/cli.json). */
  t: TFunction;
  clock?: () => Date;
}

type Line = { kind: "message"; event: InboundEvent } | { kind: "say"; text: string } | { kind: "quit" };

/** Reads one typed line: a message, or a /command that simulates WhatsApp extras. */
export function parseChatLine(line: string, channel: ChannelKind, t: TFunction): Line {
  const trimmed = line.trim();
  if (!trimmed.startsWith("/")) return { kind: "message", event: { text: line, media: [] } };
  const [command = "", ...args] = trimmed.split(/\s+/);
  switch (command) {
    case "/quit":
    case "/exit":
      return { kind: "quit" };
    case "/help":
      return { kind: "say", text: t("cli:commands") };
    case "/location": {
      const [lat, lng, ...label] = args;
      const latitude = Number(lat);
      const longitude = Number(lng);
      if (!lat || !lng || !Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
        return { kind: "say", text: t("cli:badLocation") };
      }
      if (channel === "sms") return { kind: "say", text: t("cli:smsNoMedia") };
      return { kind: "message", event: { text: "", media: [], location: { latitude, longitude, ...(label.length ? { label: label.join(" ") } : {}) } } };
    }
    case "/photo":
    case "/voice": {
      if (channel === "sms") return { kind: "say", text: t("cli:smsNoMedia") };
      const photo = command === "/photo";
      const url = args[0] ?? `https://example.invalid/simulator/${randomUUID()}.${photo ? "jpg" : "ogg"}`;
      return { kind: "message", event: { text: "", media: [{ url, contentType: photo ? "image/jpeg" : "audio/ogg" }] } };
    }
    default:
      return { kind: "say", text: t("cli:unknownCommand", { command }) };
  }
}

/**
 * The terminal simulator: each typed line goes through the same inbox, engine and database as a
 * Twilio webhook, and the bot's reply is printed with its SMS segment count. Resolves at /quit or
 * end of input.
 */
export async function runChat(options: ChatOptions): Promise<void> {
  const { inbox, channel, from, output, t } = options;
  const clock = options.clock ?? (() => new Date());
  const print = (text: string) => output.write(`${text}\n`);
  print(t("cli:banner", { from, channel }));
  print(t("cli:commands"));
  const lines = createInterface({ input: options.input, terminal: false });
  for await (const raw of lines) {
    const line = parseChatLine(raw, channel, t);
    if (line.kind === "quit") break;
    if (line.kind === "say") {
      print(line.text);
      continue;
    }
    try {
      const result = await inbox({
        channel,
        route: "twilio",
        providerMessageId: `sim-${randomUUID()}`,
        from,
        text: line.event.text,
        media: line.event.media,
        ...(line.event.location ? { location: line.event.location } : {}),
        receivedAt: clock(),
      });
      if (result.replies.length === 0) print(t("cli:silent"));
      for (const reply of result.replies) {
        print(`${t("cli:bot")}> ${reply}`);
        if (channel === "sms") {
          const cost = smsCost(reply);
          print(t("cli:segments", { count: cost.segments, encoding: cost.encoding, characters: cost.characters }));
        }
      }
    } catch (error) {
      print(t("cli:error", { message: error instanceof Error ? error.message : String(error) }));
    }
  }
  lines.close();
}
