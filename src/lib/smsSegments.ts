import { SegmentedMessage } from "sms-segments-calculator";

/** How an SMS will be billed: its segment count and encoding ("GSM-7" or "UCS-2"). */
export interface SmsCost {
  segments: number;
  encoding: string;
  characters: number;
}

/**
 * Counts SMS segments with Twilio's own calculator: GSM-7 fits 160 characters in one segment
 * (153 when split), UCS-2 (any Arabic letter, emoji or curly quote) 70 (67 when split).
 */
export function smsCost(text: string): SmsCost {
  const message = new SegmentedMessage(text);
  return { segments: message.segmentsCount, encoding: message.encodingName, characters: message.numberOfCharacters };
}
