import path from "node:path";
import express, { Router, type ErrorRequestHandler, type Request } from "express";
import type { Locale } from "../../conversation/types.js";
import { HttpError } from "../../lib/httpError.js";
import { SOURCE_DIR } from "../../lib/paths.js";
import type { RouterDeps } from "../createApp.js";
import { rejectNul } from "../rejectNul.js";
import { accountImportAdmin } from "./admin/accountImportAdmin.js";
import { apiTokensAdmin } from "./admin/apiTokensAdmin.js";
import { cannedRepliesAdmin } from "./admin/cannedRepliesAdmin.js";
import { categoriesAdmin } from "./admin/categoriesAdmin.js";
import { channelsAdmin } from "./admin/channelsAdmin.js";
import { departmentsAdmin } from "./admin/departmentsAdmin.js";
import { open311ClientsAdmin } from "./admin/open311ClientsAdmin.js";
import { areasAdmin, placesAdmin, placesUploads } from "./admin/placesAdmin.js";
import { staffAdmin } from "./admin/staffAdmin.js";
import { whatsappWebAdmin } from "./admin/whatsappWebAdmin.js";
import { surveyImportPage } from "./surveys/surveyImportPage.js";
import { surveyResultsRoutes } from "./surveys/resultsPage.js";
import { requireSurveys, surveyPages } from "./surveys/surveyPages.js";
import { accountActions } from "./accountActions.js";
import { accountPages } from "./accountPages.js";
import { authenticate, CSRF_FAILED, requireAccountsAccess, requireAdmin, requireCsrf, wantsJson } from "./auth.js";
import { html } from "./html.js";
import { indicatorsRoutes } from "./indicatorsPage.js";
import { publicPage, staffPage } from "./layout.js";
import { loginRoutes } from "./loginRoutes.js";
import { VENDOR_DIRS } from "./map/mapFrame.js";
import { mapPage } from "./map/mapPage.js";
import { mediaProxy } from "./mediaProxy.js";
import { paymentActions, type PaymentDeps } from "./paymentActions.js";
import { botPauseActions } from "./botPause.js";
import { queueActions } from "./queueActions.js";
import { queuePage } from "./queuePage.js";
import { maybeStaffContext, translator } from "./staffContext.js";
import { ticketActions } from "./ticketActions.js";
import { ticketPage } from "./ticketPage.js";

// Served from src/ also when the app runs from dist/: tsc compiles only the .ts files.
const ASSETS_DIR = path.join(SOURCE_DIR, "http", "staff", "assets");
/** Statuses with their own explanation on the error page; others get the generic one. */
const EXPLAINED = new Set([400, 403, 404, 413, 429]);

/**
 * The staff web pages under /staff: sign-in, the queue, tickets, and the admin pages. Server-rendered
 * HTML in Arabic (right-to-left) or English, per staff member; styles and scripts are files under
 * /staff/assets (the app's Content-Security-Policy allows nothing inline).
 */
export function staffRouter(deps: PaymentDeps): Router {
  const router = Router();
  // Leaflet and its plugin from node_modules, never a CDN (see map/mapFrame.ts).
  for (const [name, dir] of Object.entries(VENDOR_DIRS)) router.use(`/assets/vendor/${name}`, express.static(dir, { index: false, maxAge: "1d" }));
  router.use("/assets", express.static(ASSETS_DIR, { index: false, maxAge: "1h" }), (req, _res, next) => next(new HttpError(404, `No asset ${req.path}`)));
  router.use(express.urlencoded({ extended: false, limit: "64kb", parameterLimit: 200 }));
  router.use(express.json({ limit: "64kb" }));
  router.use(rejectNul);

  router.use(loginRoutes(deps));
  // Its multipart upload is read before the CSRF check, so it checks sign-in, role and CSRF itself.
  accountImportAdmin(router, deps);
  surveyImportPage(router, deps);
  placesUploads(router, deps);
  router.use(authenticate(deps), requireCsrf);
  router.use(queuePage(deps));
  router.use(queueActions(deps));
  router.use(mapPage(deps));
  router.use(ticketPage(deps));
  router.use(mediaProxy(deps));
  router.use(ticketActions(deps));
  router.use(botPauseActions(deps));
  router.use(paymentActions(deps));
  router.use("/accounts", requireAccountsAccess, accountPages(deps), accountActions(deps));
  surveyResultsRoutes(router, deps);
  indicatorsRoutes(router, deps);
  router.use("/surveys", requireSurveys, surveyPages(deps));

  const admin = Router();
  admin.use(requireAdmin);
  admin.get("/", (_req, res) => res.redirect(303, "/staff/admin/staff"));
  admin.use("/staff", staffAdmin(deps));
  admin.use("/departments", departmentsAdmin(deps));
  admin.use("/categories", categoriesAdmin(deps));
  admin.use("/canned-replies", cannedRepliesAdmin(deps));
  admin.use("/api-tokens", apiTokensAdmin(deps));
  admin.use("/open311-clients", open311ClientsAdmin(deps));
  admin.use("/channels", channelsAdmin(deps));
  admin.use("/whatsapp-web", whatsappWebAdmin(deps));
  admin.use("/places", placesAdmin(deps));
  admin.use("/areas", areasAdmin(deps));
  router.use("/admin", admin);

  router.use((req, _res, next) => next(new HttpError(404, `Not found: ${req.method} ${req.originalUrl}`)));
  router.use(staffErrorPage(deps));
  return router;
}

/** The HTTP status of an expected failure (ours, or one of express's parsers'); null for a bug. */
function clientStatus(error: unknown): number | null {
  if (error instanceof HttpError) return error.status;
  if (typeof error === "object" && error !== null && "status" in error && "expose" in error && error.expose === true) {
    const status = Number(error.status);
    if (status >= 400 && status < 500) return status;
  }
  return null;
}

function errorLocale(req: Request): Locale {
  return req.acceptsLanguages("ar", "en") === "en" ? "en" : "ar";
}

/**
 * Errors on staff pages become a page in the staff member's language (a JSON body for our
 * scripts); unexpected ones are logged and shown as a 500 that says nothing about internals.
 */
function staffErrorPage(deps: RouterDeps): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const status = clientStatus(error) ?? 500;
    if (status === 500) deps.logger.error({ err: error, method: req.method, path: req.originalUrl }, "staff page failed");
    const csrf = error instanceof HttpError && error.message === CSRF_FAILED;
    if (wantsJson(req)) {
      res.status(status).json({ error: status === 500 ? "Internal server error" : clientMessage(error) });
      return;
    }
    const ctx = maybeStaffContext(req);
    const t = ctx?.t ?? translator(deps.i18n, errorLocale(req));
    const key = csrf ? "csrf" : EXPLAINED.has(status) ? String(status) : status === 500 ? "500" : "other";
    const title = t(`errors.${key}.title`);
    const body = html`<section class="card error-card">
  <p class="error-code">${status}</p>
  <h1>${title}</h1>
  <p>${t(`errors.${key}.text`)}</p>
  <p><a class="btn btn-primary" href="/staff">${t("errors.backToQueue")}</a></p>
</section>`;
    res.status(status).set("Cache-Control", "no-store").type("html");
    res.send(ctx ? staffPage(ctx, "/staff", { title, body }) : publicPage(errorLocale(req), t, { title, body }));
  };
}

function clientMessage(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  return "Bad request";
}
