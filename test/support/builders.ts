import type { InboundMessage } from "../../src/inbox/inboundMessage.js";
import { newSid } from "./twilio.js";

/** An inbound message as a channel adapter hands it over; a fresh provider id unless given. */
export function inbound(fields: Partial<InboundMessage> & { text?: string } = {}): InboundMessage {
  return {
    channel: "sms",
    route: "twilio",
    providerMessageId: newSid(),
    from: "+96171123456",
    text: "",
    media: [],
    receivedAt: new Date(),
    ...fields,
  };
}
