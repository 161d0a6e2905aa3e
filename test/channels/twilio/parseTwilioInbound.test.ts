import { describe, expect, it } from "vitest";
import { parseTwilioInbound } from "../../../src/channels/twilio/parseTwilioInbound.js";
import { twilioPayload } from "../../support/twilio.js";

const AT = new Date("2026-11-29T09:00:00Z");

describe("a WhatsApp location pin", () => {
  it("keeps both the place's name (Label) and its address (Address)", () => {
    const parsed = parseTwilioInbound(twilioPayload("whatsapp-location"), AT);
    expect(parsed.ok && parsed.message).toMatchObject({
      channel: "whatsapp",
      text: "",
      location: { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias Municipality", address: "Main Road, Qab Elias" },
    });
  });

  it.each([
    [{ Label: undefined }, { latitude: 33.7934, longitude: 35.8237, address: "Main Road, Qab Elias" }],
    [{ Address: undefined }, { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias Municipality" }],
    [{ Address: undefined, Label: undefined }, { latitude: 33.7934, longitude: 35.8237 }],
    [{ Address: "", Label: "" }, { latitude: 33.7934, longitude: 35.8237 }],
  ])("with %o: %o", (overrides, location) => {
    const parsed = parseTwilioInbound(twilioPayload("whatsapp-location", overrides), AT);
    expect(parsed.ok && parsed.message.location).toEqual(location);
  });

  it("a text message has no location", () => {
    const parsed = parseTwilioInbound(twilioPayload("whatsapp-text"), AT);
    expect(parsed.ok && "location" in parsed.message).toBe(false);
  });
});
