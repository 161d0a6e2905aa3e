import { z } from "zod";
import { HttpError } from "../../../lib/httpError.js";
import type { FlashMessage } from "../flash.js";
import type { Translate } from "../staffContext.js";

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
