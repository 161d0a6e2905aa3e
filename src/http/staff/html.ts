/** Markup that may be inserted as is: built by `html` (every value escaped) or `trustedHtml`. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What may appear inside `${}` in an `html` template. Falsy values and `true` render nothing. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an HTML element or a double- or single-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function renderValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(renderValue).join("");
  if (value === null || value === undefined || typeof value === "boolean") return "";
  return escapeHtml(String(value));
}

/**
 * Builds markup from a template, escaping every interpolated value unless it is already SafeHtml:
 * a resident's `<script>` is shown as text. Arrays are joined; `null`, `undefined` and booleans
 * render nothing, so `${cond && html`...`}` works.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += renderValue(value) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

/** Marks a string of our own (never user input) as markup. */
export const trustedHtml = (markup: string) => new SafeHtml(markup);
