import { randomBytes } from "node:crypto";
import { Router, type Request, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import { z } from "zod";
import type { Locale } from "../../conversation/types.js";
import { endSession, SESSION_HOURS, signIn } from "../../services/sessions.js";
import type { RouterDeps } from "../createApp.js";
import { authenticate, requireCsrf, safeStaffPath } from "./auth.js";
import { clearStaffCookie, equalStrings, LOGIN_COOKIE, readCookie, SESSION_COOKIE, setSignedCookie, unsignValue } from "./cookies.js";
import { redirectWithFlash, takeFlash, type FlashMessage } from "./flash.js";
import { html } from "./html.js";
import { publicPage } from "./layout.js";
import { staffContext, translator } from "./staffContext.js";

/** Failed sign-ins one address may make per window (an office behind one NAT shares it). */
export const LOGIN_ATTEMPTS_PER_WINDOW = 20;
const LOGIN_WINDOW_MS = 15 * 60_000;
const LOGIN_PATH = "/staff/login";

const LoginForm = z.object({
  username: z.string().max(100).catch(""),
  password: z.string().max(1000).catch(""),
  _csrf: z.string().max(200).catch(""),
  next: z.string().max(2000).optional().catch(undefined),
  lang: z.enum(["ar", "en"]).optional().catch(undefined),
});
const LocaleForm = z.object({ locale: z.enum(["ar", "en"]), back: z.string().max(2000).optional() });

/** The language of the sign-in page: asked for (?lang=), else the browser's preference, else Arabic. */
function pageLocale(req: Request, asked?: unknown): Locale {
  if (asked === "ar" || asked === "en") return asked;
  return req.acceptsLanguages("ar", "en") === "en" ? "en" : "ar";
}

/**
 * Sign-in, sign-out and the language switch. The sign-in form carries its own CSRF token (a signed
 * cookie matched by a hidden field), is rate-limited per address, and answers every failure with
 * the same words, so nobody learns which usernames exist or which accounts are locked.
 */
export function loginRoutes(deps: RouterDeps): Router {
  const router = Router();
  const secrets = { secret: deps.sessionSecret, publicBaseUrl: deps.publicBaseUrl };
  const loginCookie = { path: LOGIN_PATH, maxAge: 3600_000 };

  function renderLogin(req: Request, res: Response, options: { locale: Locale; status?: number; username?: string; next?: string | undefined; flash?: FlashMessage[] }) {
    let token = unsignValue(deps.sessionSecret, "login", readCookie(req, LOGIN_COOKIE));
    if (!token) {
      token = randomBytes(24).toString("base64url");
      setSignedCookie(res, secrets, LOGIN_COOKIE, "login", token, loginCookie);
    }
    const t = translator(deps.i18n, options.locale);
    const other: Locale = options.locale === "ar" ? "en" : "ar";
    const switchHref = `${LOGIN_PATH}?lang=${other}${options.next ? `&next=${encodeURIComponent(options.next)}` : ""}`;
    const flash = options.flash ?? takeFlash(req, res, deps);
    const body = html`<section class="card login-card">
  <h1>${t("login.title")}</h1>
  ${flash.map((m) => html`<p class="flash flash-${m.kind}" role="${m.kind === "error" ? "alert" : "status"}">${m.text}</p>`)}
  <p class="muted">${t("login.intro")}</p>
  <form method="post" action="${LOGIN_PATH}" class="stack">
    <input type="hidden" name="_csrf" value="${token}">
    <input type="hidden" name="lang" value="${options.locale}">
    ${options.next && html`<input type="hidden" name="next" value="${options.next}">`}
    <label class="field"><span>${t("login.username")}</span>
      <input name="username" value="${options.username ?? ""}" autocomplete="username" autocapitalize="none" spellcheck="false" dir="ltr" required autofocus maxlength="100"></label>
    <label class="field"><span>${t("login.password")}</span>
      <input type="password" name="password" autocomplete="current-password" dir="ltr" required maxlength="1000"></label>
    <button type="submit" class="btn btn-primary btn-block">${t("login.submit")}</button>
  </form>
  <p class="login-lang"><a href="${switchHref}" lang="${other}">${t("nav.switchLanguage")}</a></p>
</section>`;
    res
      .status(options.status ?? 200)
      .set("Cache-Control", "no-store")
      .type("html")
      .send(publicPage(options.locale, t, { title: t("login.title"), body }));
  }

  const limiter = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: LOGIN_ATTEMPTS_PER_WINDOW,
    // Only failures count: a whole office signing in at nine o'clock is not an attack.
    skipSuccessfulRequests: true,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (req, res) => {
      const locale = pageLocale(req, (req.body as { lang?: unknown } | undefined)?.lang);
      const t = translator(deps.i18n, locale);
      renderLogin(req, res, { locale, status: 429, flash: [{ kind: "error", text: t("login.tooManyAttempts") }] });
    },
  });

  router.get("/login", async (req, res) => {
    const locale = pageLocale(req, req.query.lang);
    const next = typeof req.query.next === "string" ? safeStaffPath(req.query.next) : undefined;
    renderLogin(req, res, { locale, next: next === "/staff" ? undefined : next });
  });

  router.post("/login", limiter, async (req, res) => {
    const form = LoginForm.parse(req.body ?? {});
    const locale = pageLocale(req, form.lang);
    const t = translator(deps.i18n, locale);
    const token = unsignValue(deps.sessionSecret, "login", readCookie(req, LOGIN_COOKIE));
    if (!token || !form._csrf || !equalStrings(token, form._csrf)) {
      // An old tab or a forged form: a fresh form, and nothing checked.
      renderLogin(req, res, { locale, status: 403, username: form.username, next: form.next, flash: [{ kind: "error", text: t("login.expiredForm") }] });
      return;
    }
    const result = await signIn(deps.db, { municipalityId: deps.municipalityId, username: form.username, password: form.password }, deps.clock());
    if (!result.ok) {
      deps.logger.info({ reason: result.reason, username: form.username.slice(0, 40) }, "staff sign-in refused");
      renderLogin(req, res, { locale, status: 401, username: form.username, next: form.next, flash: [{ kind: "error", text: t("login.failed") }] });
      return;
    }
    clearStaffCookie(res, deps.publicBaseUrl, LOGIN_COOKIE, { path: LOGIN_PATH });
    setSignedCookie(res, secrets, SESSION_COOKIE, "session", result.session.id, { maxAge: SESSION_HOURS * 3600_000 });
    deps.logger.info({ staffId: result.actor.id }, "staff signed in");
    res.redirect(303, safeStaffPath(form.next));
  });

  // Everything below needs a signed-in browser and its CSRF token.
  router.post("/logout", authenticate(deps), requireCsrf, async (req, res) => {
    const { sessionId, t, locale } = staffContext(req);
    await deps.db.$transaction((tx) => endSession(tx, sessionId));
    clearStaffCookie(res, deps.publicBaseUrl, SESSION_COOKIE);
    redirectWithFlash(res, deps, `${LOGIN_PATH}?lang=${locale}`, [{ kind: "info", text: t("login.signedOut") }]);
  });

  router.post("/locale", authenticate(deps), requireCsrf, async (req, res) => {
    const { actor } = staffContext(req);
    const form = LocaleForm.safeParse(req.body);
    const back = safeStaffPath(form.success ? form.data.back : undefined);
    if (form.success) {
      const locale = form.data.locale;
      await deps.db.$transaction((tx) => tx.staff.update({ where: { id: actor.id }, data: { locale } }));
    }
    res.redirect(303, back);
  });

  return router;
}
