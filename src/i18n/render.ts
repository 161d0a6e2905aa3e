import type { i18n } from "i18next";
import type { ChannelKind, Locale, Reply, ReplyParam } from "../conversation/types.js";

/** A reply key the locale files do not have: a bug, never something to show a resident. */
export class MissingTranslationError extends Error {
  override readonly name = "MissingTranslationError";
}

function renderParam(i18n: i18n, value: ReplyParam, locale: Locale, channel: ChannelKind): string | number {
  if (typeof value === "string" || typeof value === "number") return value;
  if ("$t" in value) return renderOne(i18n, { key: value.$t, ...(value.params ? { params: value.params } : {}) }, locale, channel);
  if ("options" in value) {
    return value.options
      .map((o) => `${o.n} ${typeof o.label === "string" ? o.label : String(renderParam(i18n, o.label, locale, channel))}`)
      .join("\n");
  }
  if ("lines" in value) return value.lines.map((l) => renderParam(i18n, l, locale, channel)).join("\n");
  return value[locale];
}

function renderOne(i18n: i18n, reply: Reply, locale: Locale, channel: ChannelKind): string {
  const params = Object.fromEntries(
    Object.entries(reply.params ?? {}).map(([k, v]) => [k, renderParam(i18n, v, locale, channel)]),
  );
  const options = { lng: locale, context: channel, ...params };
  // Channel variants ("askLocation_whatsapp") are i18next contexts; the plain key is the fallback.
  if (!i18n.exists(reply.key, options)) throw new MissingTranslationError(`No ${locale} text for "${reply.key}"`);
  return i18n.t(reply.key, options);
}

/**
 * Renders one turn's replies in the resident's language, for their channel, as one message:
 * on SMS every separate message costs money, so replies are joined with line breaks.
 */
export function render(i18n: i18n, replies: readonly Reply[], locale: Locale, channel: ChannelKind): string {
  // A lone surrogate (half an emoji) cannot be written as XML: TwiML would fail after the transaction.
  return replies.map((r) => renderOne(i18n, r, locale, channel)).join("\n").toWellFormed();
}

/** Renders one text of the `notify` namespace (staff-triggered messages) for a resident. */
export function renderNotification(i18n: i18n) {
  return (key: string, params: Record<string, string | number>, locale: Locale, channel: ChannelKind) =>
    render(i18n, [{ key: `notify:${key}`, params }], locale, channel);
}
