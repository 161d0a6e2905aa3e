import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import type { Response } from "express";
import type { FlashMessage } from "../flash.js";
import { html, type HtmlValue } from "../html.js";
import { csrfField, staffPage, type Section } from "../layout.js";
import type { StaffContext, Translate } from "../staffContext.js";

/**
 * Form fields carry their error as a translation key (`z.string().min(1, "admin.errors.nameAr")`):
 * the staff member reads what to fix, in their language.
 */
export function formErrors(t: Translate, error: z.ZodError): FlashMessage[] {
  const keys = [...new Set(error.issues.map((i) => (i.message.startsWith("admin.errors.") ? i.message : "admin.errors.invalid")))];
  return keys.map((key) => ({ kind: "error", text: t(key) }));
}

/** A ticked checkbox sends "on"; an unticked one sends nothing. */
export const checkbox = z
  .unknown()
  .optional()
  .transform((v) => v === "on" || v === "true" || v === "1");

/** Several checkboxes with one name: absent, one value, or several. */
export const manyValues = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((s) => s !== ""));

/** The same code shape the queue filters accept (`[a-z_]+`). */
export const codeField = (error: string) => z.string().trim().regex(/^[a-z][a-z_]{1,39}$/, error);

/** A row id from the URL; anything else is a page that does not exist. */
export function parseId(raw: unknown): number {
  if (typeof raw !== "string" || !/^\d{1,9}$/.test(raw)) throw new HttpError(404, "Not found");
  return Number(raw);
}

/**
 * The second step of an admin action that cannot be undone (revoking a key, unlinking the town's
 * WhatsApp phone): a page that says what will happen, whose button posts `confirm=yes` back to
 * `action` (the POST handler asks again when the field is missing), and a way out.
 */
export function sendConfirmation(
  res: Response,
  ctx: StaffContext,
  page: { path: string; title: string; section: Section; question: HtmlValue; explain: HtmlValue; details?: HtmlValue; action: string; submit: string; cancel: string; cancelHref: string },
): void {
  const body = html`<section class="card form-card">
  <h1>${page.question}</h1>
  <p>${page.explain}</p>
  ${page.details === undefined ? "" : html`<p>${page.details}</p>`}
  <form method="post" action="${page.action}" class="actions">
    ${csrfField(ctx)}<input type="hidden" name="confirm" value="yes">
    <button type="submit" class="btn btn-danger">${page.submit}</button>
    <a class="btn btn-ghost" href="${page.cancelHref}">${page.cancel}</a>
  </form>
</section>`;
  res.set("Cache-Control", "no-store").type("html").send(staffPage(ctx, page.path, { title: page.title, section: page.section, body }));
}
