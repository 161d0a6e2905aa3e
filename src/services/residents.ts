import type { ChannelKind, Locale } from "../conversation/types.js";
import type { Tx } from "../db/createDb.js";

export interface InboundIdentity {
  municipalityId: string;
  phone: string;
  channel: ChannelKind;
  profileName?: string | undefined;
  at: Date;
}

/**
 * The resident behind a phone number, created on first contact, with the channel identity they
 * wrote from and the time of their last message on it (WhatsApp's 24-hour window is counted from it).
 */
export async function residentForInbound(tx: Tx, who: InboundIdentity) {
  const resident = await tx.resident.upsert({
    where: { municipalityId_phone: { municipalityId: who.municipalityId, phone: who.phone } },
    create: { municipalityId: who.municipalityId, phone: who.phone, profileName: who.profileName ?? null },
    update: who.profileName ? { profileName: who.profileName } : {},
  });
  await tx.channelIdentity.upsert({
    where: {
      municipalityId_channel_address: { municipalityId: who.municipalityId, channel: who.channel, address: who.phone },
    },
    create: {
      municipalityId: who.municipalityId,
      residentId: resident.id,
      channel: who.channel,
      address: who.phone,
      lastInboundAt: who.at,
    },
    update: { lastInboundAt: who.at },
  });
  return resident;
}

/** Records the resident's language. */
export async function setResidentLocale(tx: Tx, residentId: number, locale: Locale) {
  await tx.resident.update({ where: { id: residentId }, data: { locale } });
}

/** Opt-out (STOP) or back in (START); every sender checks `optedOut` before sending anything. */
export async function setOptOut(tx: Tx, residentId: number, optedOut: boolean, at: Date) {
  await tx.resident.update({
    where: { id: residentId },
    data: optedOut ? { optedOut: true, optedOutAt: at } : { optedOut: false, optedInAt: at },
  });
}
