import type { Locale } from "../../conversation/types.js";
import { canWorkAccounts } from "../../services/accountStaff.js";
import { canRunSurveys } from "../../services/staff.js";
import type { FlashMessage } from "./flash.js";
import { html, type HtmlValue, type SafeHtml } from "./html.js";
import type { StaffContext, Translate } from "./staffContext.js";

/** Where the stylesheet and scripts are served (see staffRouter). */
export const ASSETS = "/staff/assets";

/** The sections in the navigation bar; admin ones only for admins. */
export type Section = "queue" | "map" | "indicators" | "accounts" | "surveys" | "staff" | "departments" | "categories" | "cannedReplies" | "apiTokens" | "open311Clients" | "channels" | "places";
const ADMIN_SECTIONS: ReadonlyArray<{ section: Section; href: string }> = [
  { section: "staff", href: "/staff/admin/staff" },
  { section: "departments", href: "/staff/admin/departments" },
  { section: "categories", href: "/staff/admin/categories" },
  { section: "cannedReplies", href: "/staff/admin/canned-replies" },
  { section: "apiTokens", href: "/staff/admin/api-tokens" },
  { section: "open311Clients", href: "/staff/admin/open311-clients" },
  { section: "channels", href: "/staff/admin/channels" },
];

export interface PageOptions {
  title: string;
  body: SafeHtml;
  section?: Section;
  /** Script files under /staff/assets, loaded with `defer`. */
  scripts?: string[];
  /** Extra stylesheets under /staff/assets (a map's), before staff.css so ours win. */
  styles?: string[];
  /** A page's own stylesheets under /staff/assets (queue.css, ticket.css), after staff.css so they refine it. */
  pageStyles?: string[];
  flash?: FlashMessage[];
}

/** The hidden field every state-changing form carries. */
export function csrfField(ctx: { csrfToken: string }): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
}

function documentShell(locale: Locale, t: Translate, title: string, content: SafeHtml, scripts: string[] = [], bodyClass = "", styles: string[] = [], pageStyles: string[] = []): string {
  const dir = locale === "ar" ? "rtl" : "ltr";
  return `<!doctype html>\n${html`<html lang="${locale}" dir="${dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · ${t("app.name")}</title>
<link rel="icon" href="data:,">
${styles.map((s) => html`<link rel="stylesheet" href="${ASSETS}/${s}">\n`)}<link rel="stylesheet" href="${ASSETS}/staff.css">
${pageStyles.map((s) => html`<link rel="stylesheet" href="${ASSETS}/${s}">\n`)}${scripts.map((s) => html`<script src="${ASSETS}/${s}" defer></script>\n`)}</head>
<body class="${bodyClass}">
${content}
</body>
</html>`}`;
}

function flashList(messages: FlashMessage[] = []): HtmlValue {
  if (messages.length === 0) return null;
  return html`<div class="flash-list">${messages.map((m) => html`<p class="flash flash-${m.kind}" role="${m.kind === "error" ? "alert" : "status"}">${m.text}</p>`)}</div>`;
}

/** A page for a signed-in staff member: navigation, language switch, sign-out, messages, content. */
export function staffPage(ctx: StaffContext, currentUrl: string, options: PageOptions): string {
  const { t, actor } = ctx;
  const other: Locale = ctx.locale === "ar" ? "en" : "ar";
  const link = (section: Section, href: string) =>
    html`<a href="${href}" class="${options.section === section ? "active" : ""}" ${options.section === section ? html`aria-current="page"` : null}>${t(`nav.${section}`)}</a>`;
  const header = html`<header class="topbar">
  <div class="topbar-inner">
    <a class="brand" href="/staff"><span class="brand-mark" aria-hidden="true">ب</span><span><strong>${t("app.name")}</strong><small>${t("app.municipality")}</small></span></a>
    <nav class="mainnav" aria-label="${t("nav.label")}">
      ${link("queue", "/staff")}
      ${link("map", "/staff/map")}
      <a href="/staff/indicators" class="${options.section === "indicators" ? "active" : ""}" ${options.section === "indicators" ? html`aria-current="page"` : null}>${t("indicators:nav")}</a>
      ${canWorkAccounts(actor) && link("accounts", "/staff/accounts")}
      ${canRunSurveys(actor) && html`<a href="/staff/surveys" class="${options.section === "surveys" ? "active" : ""}" ${options.section === "surveys" ? html`aria-current="page"` : null}>${t("surveys:nav")}</a>`}
      ${actor.role === "admin" && ADMIN_SECTIONS.map((s) => link(s.section, s.href))}
      ${actor.role === "admin" && html`<a href="/staff/admin/places" class="${options.section === "places" ? "active" : ""}" ${options.section === "places" ? html`aria-current="page"` : null}>${t("places:nav")}</a>`}
    </nav>
    <div class="userbox">
      <span class="who"><strong>${actor.displayName}</strong> <span class="role">${t(`roles.${actor.role}`)}</span></span>
      <form method="post" action="/staff/locale" class="inline">
        ${csrfField(ctx)}<input type="hidden" name="locale" value="${other}"><input type="hidden" name="back" value="${currentUrl}">
        <button type="submit" class="btn btn-ghost btn-small" lang="${other}">${t("nav.switchLanguage")}</button>
      </form>
      <form method="post" action="/staff/logout" class="inline">
        ${csrfField(ctx)}<button type="submit" class="btn btn-ghost btn-small">${t("nav.signOut")}</button>
      </form>
    </div>
  </div>
</header>`;
  const content = html`${header}
<main class="container">
${flashList(options.flash)}
${options.body}
</main>`;
  return documentShell(ctx.locale, t, options.title, content, options.scripts, "", options.styles, options.pageStyles);
}

/** A page for someone not signed in (the sign-in form, errors before authentication). */
export function publicPage(locale: Locale, t: Translate, options: { title: string; body: SafeHtml; flash?: FlashMessage[] }): string {
  const content = html`<main class="container container-narrow">
<div class="public-brand"><span class="brand-mark" aria-hidden="true">ب</span><div><strong>${t("app.name")}</strong><small>${t("app.municipality")}</small></div></div>
${flashList(options.flash)}
${options.body}
</main>`;
  return documentShell(locale, t, options.title, content, [], "public");
}
