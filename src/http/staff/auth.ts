import type { Request, RequestHandler } from "express";
import { HttpError } from "../../lib/httpError.js";
import { canWorkAccounts } from "../../services/accountStaff.js";
import { sessionActor } from "../../services/sessions.js";
import type { RouterDeps } from "../createApp.js";
import { clearStaffCookie, equalStrings, readCookie, SESSION_COOKIE, unsignValue } from "./cookies.js";
import { setStaffContext, staffContext, translator } from "./staffContext.js";

/** Requests made by our scripts (polling, live counters) want a status code, not a page. */
export function wantsJson(req: Request): boolean {
  return req.get("X-Requested-With") === "fetch" || req.accepts(["html", "json"]) === "json";
}

/**
 * Where to go after signing in: only a page of the staff site, never another origin
 * ("//evil.example" or "/\evil.example" would leave it).
 */
export function safeStaffPath(candidate: unknown, fallback = "/staff"): string {
  if (typeof candidate !== "string") return fallback;
  if (!/^\/staff(\/|\?|$)/.test(candidate) || /[\\\s]/.test(candidate) || candidate.startsWith("/staff/login")) return fallback;
  return candidate;
}

/**
 * Lets signed-in staff through (with their context set for the rest of the request). Page requests
 * without a valid session go to the sign-in page; script requests get 401.
 */
export function authenticate(deps: RouterDeps): RequestHandler {
  return async (req, res, next) => {
    const sessionId = unsignValue(deps.sessionSecret, "session", readCookie(req, SESSION_COOKIE));
    const found = sessionId ? await deps.db.$transaction((tx) => sessionActor(tx, sessionId, deps.clock())) : null;
    if (!sessionId || !found) {
      if (readCookie(req, SESSION_COOKIE)) clearStaffCookie(res, deps.publicBaseUrl, SESSION_COOKIE);
      if (wantsJson(req)) {
        res.status(401).json({ error: "Not signed in" });
        return;
      }
      const next = req.method === "GET" ? `?next=${encodeURIComponent(req.originalUrl)}` : "";
      res.redirect(303, `/staff/login${next}`);
      return;
    }
    const { actor, csrfToken } = found;
    setStaffContext(req, { actor, locale: actor.locale, t: translator(deps.i18n, actor.locale), csrfToken, sessionId });
    // Pages show residents' phone numbers: never keep them in a shared cache or the back button's.
    res.set("Cache-Control", "no-store");
    next();
  };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** The message of the 403 a request without the right CSRF token gets (the error page explains it). */
export const CSRF_FAILED = "Missing or wrong CSRF token";

/**
 * Every state-changing request of a signed-in browser must carry the session's CSRF token: the
 * hidden `_csrf` field of our forms, or the `X-CSRF-Token` header of our scripts. 403 otherwise.
 */
export const requireCsrf: RequestHandler = (req, _res, next) => {
  if (SAFE_METHODS.has(req.method)) return next();
  const { csrfToken } = staffContext(req);
  const body: unknown = req.body;
  const field = typeof body === "object" && body !== null && "_csrf" in body && typeof body._csrf === "string" ? body._csrf : undefined;
  const sent = field ?? req.get("X-CSRF-Token");
  if (!sent || !equalStrings(sent, csrfToken)) throw new HttpError(403, CSRF_FAILED);
  next();
};

/** Admin pages: agents get 403. */
export const requireAdmin: RequestHandler = (req, _res, next) => {
  if (staffContext(req).actor.role !== "admin") throw new HttpError(403, "Admins only");
  next();
};

/** Account pages: admins and finance agents; other agents get 403. */
export const requireAccountsAccess: RequestHandler = (req, _res, next) => {
  if (!canWorkAccounts(staffContext(req).actor)) throw new HttpError(403, "Finance staff and admins only");
  next();
};
