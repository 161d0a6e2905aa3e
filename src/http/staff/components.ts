import { isRoute, type Route } from "../../channels/routes.js";
import { TICKET_STATUSES } from "../../conversation/types.js";
import { TICKET_CHANNELS } from "../../services/ticketQueries.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import type { Translate } from "./staffContext.js";

/** A ticket status as a coloured badge. */
export function statusBadge(t: Translate, status: string): SafeHtml {
  return html`<span class="badge status status-${status}">${t(`status.${status}`)}</span>`;
}

/** Channels that only ever travel one route: naming it would tell staff nothing. */
const ONLY_ROUTE: Readonly<Record<string, Route | "open311">> = { whatsapp: "twilio", open311: "open311" };

/** A route's name ("Android gateway", "Open311"); a value we do not know is shown as stored. */
export function routeLabel(t: Translate, route: string): string {
  return isRoute(route) || route === "open311" ? t(`route.${route}`) : route;
}

/**
 * The channel, and the route it travels when that says something: "SMS · Android gateway",
 * "SMS · Twilio", "WhatsApp · WhatsApp Web" (the town's own number), but "WhatsApp" (Twilio's) and
 * "Open311" (another tool's request). Without a route, the channel alone.
 */
export function channelLabel(t: Translate, channel: string, route?: string | null): string {
  const name = t(`channel.${channel}`);
  if (!route || ONLY_ROUTE[channel] === route) return name;
  return t("channel.withRoute", { channel: name, route: routeLabel(t, route) });
}

/** SMS, WhatsApp or Open311, with the route it came by (see `channelLabel`). */
export function channelBadge(t: Translate, channel: string, route?: string | null): SafeHtml {
  return html`<span class="badge channel channel-${channel}${route ? ` route-${route}` : ""}">${channelLabel(t, channel, route)}</span>`;
}

/** The resident's language (their texts are shown in it, the notifications go out in it). */
export function languageBadge(t: Translate, locale: string): SafeHtml {
  return html`<span class="badge lang" lang="${locale}">${t(`language.${locale}`)}</span>`;
}

/** The flags that make a ticket urgent to look at. */
export function flagBadges(t: Translate, ticket: { childRelated: boolean; needsHuman: boolean }): SafeHtml {
  return html`${ticket.needsHuman && html`<span class="badge flag flag-human">${t("flags.needsHuman")}</span>`}${ticket.childRelated && html`<span class="badge flag flag-child">${t("flags.childRelated")}</span>`}`;
}

/** Delivery states of messages sent through the outbox, as Twilio's callbacks report them. */
const DELIVERY_STATUSES = new Set(["queued", "held", "accepted", "scheduled", "sending", "sent", "delivered", "read", "failed", "undelivered", "not_sent"]);

/** An outbound message's delivery state. */
export function deliveryBadge(t: Translate, status: string): SafeHtml {
  const label = DELIVERY_STATUSES.has(status) ? t(`delivery.status.${status}`) : t("delivery.status.other", { status });
  return html`<span class="badge delivery delivery-${status}">${label}</span>`;
}

export interface Option {
  value: string;
  label: string;
}

/** `<option>`s with one selected. */
/**
 * The options the queue's and the map's filters share: status (open, all, each), the channels a
 * ticket can come through (SMS, WhatsApp, Open311), the departments the staff member may pick
 * (agents: their own, the others would always be empty), yes/no/any.
 */
export function sharedFilterOptions<D extends { code: string }>(t: Translate, actor: { role: string; departments: readonly string[] }, departments: readonly D[]) {
  const any: Option = { value: "", label: t("filters.any") };
  const statuses: Option[] = [
    { value: "open", label: t("filters.open") },
    { value: "all", label: t("filters.all") },
    ...TICKET_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) })),
  ];
  const yesNo: Option[] = [any, { value: "true", label: t("filters.yes") }, { value: "false", label: t("filters.no") }];
  const channels: Option[] = [any, ...TICKET_CHANNELS.map((c) => ({ value: c, label: t(`channel.${c}`) }))];
  return { any, statuses, yesNo, channels, departments: actor.role === "admin" ? departments : departments.filter((d) => actor.departments.includes(d.code)) };
}

export function selectOptions(options: readonly Option[], selected: string | undefined | null): SafeHtml {
  return html`${options.map((o) => html`<option value="${o.value}" ${o.value === (selected ?? "") ? html`selected` : null}>${o.label}</option>`)}`;
}

/** A labelled `<select>`. */
export function selectField(label: string, name: string, options: readonly Option[], selected: string | undefined | null, extra: { id?: string; required?: boolean } = {}): SafeHtml {
  const id = extra.id ?? `f-${name}`;
  return html`<label class="field" for="${id}"><span>${label}</span><select id="${id}" name="${name}" ${extra.required ? html`required` : null}>${selectOptions(options, selected)}</select></label>`;
}

/** A labelled text input. */
export function textField(label: string, name: string, value: string | number | null | undefined, extra: { type?: string; required?: boolean; dir?: "ltr" | "rtl" | "auto"; maxlength?: number; min?: number; max?: number; autocomplete?: string; hint?: string; lang?: string } = {}): SafeHtml {
  return html`<label class="field"><span>${label}</span><input type="${extra.type ?? "text"}" name="${name}" value="${value ?? ""}"${extra.required ? html` required` : null}${extra.dir ? html` dir="${extra.dir}"` : null}${extra.lang ? html` lang="${extra.lang}"` : null}${extra.maxlength !== undefined ? html` maxlength="${extra.maxlength}"` : null}${extra.min !== undefined ? html` min="${extra.min}"` : null}${extra.max !== undefined ? html` max="${extra.max}"` : null}${extra.autocomplete ? html` autocomplete="${extra.autocomplete}"` : null}>${extra.hint && html`<small class="hint">${extra.hint}</small>`}</label>`;
}

/** A labelled checkbox (sends "on" when ticked). */
export function checkboxField(label: string, name: string, checked: boolean, value = "on"): SafeHtml {
  return html`<label class="check"><input type="checkbox" name="${name}" value="${value}" ${checked ? html`checked` : null}><span>${label}</span></label>`;
}

/**
 * An inserted value that keeps its own direction inside the sentence around it (a name, a
 * reference, an amount, a file name): `<bdi>` guesses it from the value's first letter; pass "ltr"
 * for what always reads left to right (phone numbers, URLs, paths, codes).
 */
export function bdi(value: HtmlValue, dir?: "ltr" | "rtl"): SafeHtml {
  return dir ? html`<bdi dir="${dir}">${value}</bdi>` : html`<bdi>${value}</bdi>`;
}

/**
 * Technical text (a provider's error, a parser's message, a database error) behind a "Details"
 * toggle, left to right as written: staff read the explanation in their language first, and copy
 * this for whoever fixes it. Nothing when there is no detail.
 */
export function technicalDetails(t: Translate, detail: string | null | undefined): HtmlValue {
  if (!detail) return null;
  // .sms-text: the stylesheet's wrapping block for text shown as written (the CSV sample uses it too).
  return html`<details class="tech-details"><summary>${t("errors:details")}</summary><pre class="sms-text" dir="ltr">${detail}</pre></details>`;
}

/**
 * An import (accounts, consent, places) that stopped on an unexpected error, such as the database's:
 * all or nothing, so nothing changed. Said in the reader's language; the error's own message
 * behind "Details".
 */
export function importFailedCard(t: Translate, error: unknown): SafeHtml {
  const detail = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
  return html`<section class="card import-failed" role="alert"><p>${t("errors:imports.failed")}</p>${technicalDetails(t, detail)}</section>`;
}
