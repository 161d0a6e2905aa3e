import type { Request } from "express";
import type { i18n } from "i18next";
import type { Locale } from "../../conversation/types.js";
import { MissingTranslationError } from "../../i18n/render.js";
import type { Actor } from "../../services/staff.js";

/** A staff-page text by key (namespace "staff"), in one language. */
export type Translate = (key: string, params?: Record<string, string | number>) => string;

/**
 * Staff-page texts in one language. A key missing from locales/{ar,en}/staff.json is a bug: it
 * throws (and the tests, which render every page in both languages, fail) instead of showing a key.
 */
export function translator(i18n: i18n, locale: Locale): Translate {
  return (key, params = {}) => {
    const options = { lng: locale, ns: "staff", ...params };
    if (!i18n.exists(key, options)) throw new MissingTranslationError(`No ${locale} staff text for "${key}"`);
    return String(i18n.t(key, options));
  };
}

/** Who is signed in on this request, in which language, and the token their forms must carry. */
export interface StaffContext {
  actor: Actor;
  locale: Locale;
  t: Translate;
  csrfToken: string;
  /** The secret session id from the cookie (to sign this browser out). */
  sessionId: string;
}

const contexts = new WeakMap<Request, StaffContext>();

/** Remembers who is signed in for the rest of this request. */
export function setStaffContext(req: Request, context: StaffContext): void {
  contexts.set(req, context);
}

/** The signed-in staff member of a request that passed authentication. */
export function staffContext(req: Request): StaffContext {
  const context = contexts.get(req);
  if (!context) throw new Error(`${req.method} ${req.originalUrl} reached a staff route without authentication`);
  return context;
}

/** The same, or null before authentication (login page, error pages). */
export function maybeStaffContext(req: Request): StaffContext | null {
  return contexts.get(req) ?? null;
}
