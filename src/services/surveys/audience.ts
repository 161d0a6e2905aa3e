import type { ChannelKind, Locale } from "../../conversation/types.js";
import type { Db, Tx } from "../../db/createDb.js";
import type { Audience } from "./definition.js";

/** A resident a survey may be sent to, as the audience filters and the sender see them. */
export interface SurveyRecipient {
  residentId: number;
  phone: string;
  locale: Locale;
  area: string | null;
  /** The channel they last wrote on; SMS when they never wrote (joined through an import). */
  channel: ChannelKind;
  /** When they last wrote on WhatsApp (its 24-hour window). */
  whatsappLastInboundAt: Date | null;
}

/**
 * Every resident who joined surveys and has not left them nor said STOP, narrowed to the audience's
 * channels, languages and areas (an empty list: no narrowing). Ordered by resident id.
 */
export async function surveyAudience(db: Db | Tx, municipalityId: string, audience: Audience): Promise<SurveyRecipient[]> {
  const residents = await db.resident.findMany({
    where: {
      municipalityId,
      optedOut: false,
      surveyJoinedAt: { not: null },
      surveyLeftAt: null,
      ...(audience.areas.length > 0 ? { area: { in: audience.areas } } : {}),
    },
    select: { id: true, phone: true, locale: true, area: true, identities: { select: { channel: true, lastInboundAt: true } } },
    orderBy: { id: "asc" },
  });
  return residents
    .map((r): SurveyRecipient => {
      const wrote = r.identities.filter((i) => i.lastInboundAt !== null).sort((a, b) => b.lastInboundAt!.getTime() - a.lastInboundAt!.getTime());
      const whatsapp = r.identities.find((i) => i.channel === "whatsapp");
      return {
        residentId: r.id,
        phone: r.phone,
        locale: r.locale === "en" ? "en" : "ar",
        area: r.area,
        channel: wrote[0]?.channel === "whatsapp" ? "whatsapp" : "sms",
        whatsappLastInboundAt: whatsapp?.lastInboundAt ?? null,
      };
    })
    .filter((r) => (audience.channels.length === 0 || audience.channels.includes(r.channel)) && (audience.languages.length === 0 || audience.languages.includes(r.locale)));
}
