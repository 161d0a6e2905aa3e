import type { Route } from "../channels/routes.js";
import type { ChannelKind, Location, Media } from "../conversation/types.js";

/** One message from a resident as a channel adapter hands it over: provider fields already translated. */
export interface InboundMessage {
  channel: ChannelKind;
  /** How it came (Twilio, the Android gateway, SMPP); the resident's replies go back the same way. */
  route: Route;
  /**
   * The provider's id for the message (Twilio's MessageSid, the Android gateway's event id):
   * deliveries of the same id on the same route are one message.
   */
  providerMessageId: string;
  /**
   * The resident's phone number in E.164 — or, from WhatsApp Web, "lid:<digits>" for a sender
   * WhatsApp hid the number of and whose number could not be resolved (`verifiedPhone: false`).
   */
  from: string;
  /**
   * False when `from` is not a phone number the provider vouches for (a WhatsApp LID): the bot then
   * never discloses or links accounts for it. Absent means true (every other route gives the number).
   */
  verifiedPhone?: boolean;
  text: string;
  location?: Location;
  media: Media[];
  profileName?: string;
  receivedAt: Date;
}

/** The bot's answer to one inbound message: zero or more texts to send back on the same channel. */
export interface InboundResult {
  replies: string[];
  /** True when this message had been handled before and the stored answer is returned. */
  duplicate: boolean;
}

/** What the stored copy of a message that carried a bill's verification code says instead. */
export const REDACTED_CODE = "••••";
