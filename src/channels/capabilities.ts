import type { ChannelCapabilities, ChannelKind } from "../conversation/types.js";

/**
 * What each channel can carry. SMS replies are held to two segments; WhatsApp carries photos and
 * location pins, and only allows free-form messages within 24 hours of the resident's last one.
 */
export const CAPABILITIES: Record<ChannelKind, ChannelCapabilities> = {
  sms: { channel: "sms", media: false, location: false, maxSegments: 2, replyWindowHours: null },
  whatsapp: { channel: "whatsapp", media: true, location: true, maxSegments: null, replyWindowHours: 24 },
};
