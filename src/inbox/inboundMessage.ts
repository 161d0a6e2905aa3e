import type { ChannelKind, Location, Media } from "../conversation/types.js";

/** One message from a resident as a channel adapter hands it over: provider fields already translated. */
export interface InboundMessage {
  channel: ChannelKind;
  /** The provider's id for the message (Twilio's MessageSid): deliveries of the same id are one message. */
  providerMessageId: string;
  /** The resident's phone number in E.164. */
  from: string;
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
