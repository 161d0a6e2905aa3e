import { Router, type Request, type RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { Locale } from "../../conversation/types.js";
import type { Db } from "../../db/createDb.js";
import { beirutW3c } from "../../lib/beirutTime.js";
import { HttpError } from "../../lib/httpError.js";
import type { O311Documents, O311Root } from "../../services/open311/document.js";
import { listPublicRequests, publicRequest } from "../../services/open311/requests.js";
import { listServices, serviceDefinition, servicesChangeset } from "../../services/open311/services.js";
import { rejectNul } from "../rejectNul.js";
import { checkJurisdiction, localeOf, pathParam, readRequestsQuery } from "./params.js";
import { formatOf, knownFormat, open311Errors, sendDocument, sendErrors } from "./respond.js";

/** What the Open311 server needs, and nothing more. */
export interface Open311Deps {
  db: Db;
  logger: Logger;
  municipalityId: string;
  /** The endpoint's address in discovery is this plus /open311/v2. */
  publicBaseUrl: string;
  settings: Config["open311"];
  clock: () => Date;
}

export const GEOREPORT_V2 = "http://wiki.open311.org/GeoReport_v2";
// Path segments this server could have: anything else is a 404 without asking the database.
const SERVICE_CODE = /^[A-Za-z0-9_-]{1,100}$/;
const REFERENCE = /^\d{1,10}$/;
const MAX_REFERENCE = 2_147_483_647;

interface ReadContext {
  req: Request;
  locale: Locale;
  /** Answers with the document, in the format and language asked for. */
  reply<R extends O311Root>(root: R, value: O311Documents[R]): void;
}

/**
 * Open311 GeoReport v2 (with Service Discovery), mounted at /open311/v2: discovery, services,
 * one service's definition, requests and one request, each as `.xml` or `.json`. Everything it
 * answers — errors included — is in the format the URL asked for (XML when it names neither), with
 * the specification's codes: 400 bad parameter, 403 key needed, 404 unknown thing or jurisdiction,
 * 429 too many reads from one address, 500. Reads carry `Access-Control-Allow-Origin: *` so the
 * town's website can show them. Filing (POST requests) waits for client keys: it answers 403.
 */
export function open311Router(deps: Open311Deps): Router {
  const router = Router();
  const { settings } = deps;

  router.use((req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD") res.set("Access-Control-Allow-Origin", "*");
    // Nothing here is HTML, and no browser should guess otherwise.
    res.set("X-Content-Type-Options", "nosniff");
    // A browser's preflight, for a page on another site that sends Accept-Language: reads only.
    if (req.method === "OPTIONS") {
      res.set({ "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Allow-Headers": "Accept, Accept-Language", "Access-Control-Max-Age": "86400" });
      res.status(204).end();
      return;
    }
    next();
  });
  router.use(
    rateLimit({
      windowMs: 60_000,
      limit: settings.readsPerMinute,
      skip: (req) => req.method !== "GET" && req.method !== "HEAD",
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (req, res) => sendErrors(res, formatOf(req), 429, [`Too many requests: at most ${settings.readsPerMinute} a minute from one address; try again in a minute`]),
    }),
  );
  router.use(rejectNul);
  router.use((req, _res, next) => {
    checkJurisdiction(req.query, settings.jurisdictionId);
    next();
  });

  /**
   * A GET route answering one document: the format from the URL's `.{format}` (another suffix is
   * an unknown route), the locale from the query or the browser; `open` routes are readable even
   * when OPEN311_PUBLIC_READ is off.
   */
  const read =
    (answer: (ctx: ReadContext) => Promise<void>, options: { open?: boolean } = {}): RequestHandler =>
    async (req, res, next) => {
      const format = knownFormat(pathParam(req, "format"));
      if (!format) return next();
      if (!settings.publicRead && !options.open) throw new HttpError(403, "api_key: Reading through Open311 needs a client key; keys are not issued yet");
      const locale = localeOf(req);
      await answer({
        req,
        locale,
        reply: (root, value) => {
          res.set("Vary", "Accept-Language").set("Content-Language", locale);
          sendDocument(res, format, root, value);
        },
      });
    };

  router.get(
    "/discovery.:format",
    read(
      async ({ reply }) => {
        const changeset = beirutW3c(await servicesChangeset(deps.db, deps.municipalityId));
        reply("discovery", {
          changeset,
          contact: settings.contact,
          key_service: settings.publicRead
            ? "Reading needs no key. Filing requests needs a client key from the municipality; keys are not issued yet."
            : "Reading and filing need a client key from the municipality; keys are not issued yet.",
          endpoints: [{ specification: GEOREPORT_V2, url: `${deps.publicBaseUrl}/open311/v2`, changeset, type: "production", formats: ["text/xml", "application/json"] }],
        });
      },
      { open: true },
    ),
  );

  router.get(
    "/services.:format",
    read(async ({ locale, reply }) => reply("services", await listServices(deps.db, deps.municipalityId, locale))),
  );

  router.get(
    "/services/:code.:format",
    read(async ({ req, locale, reply }) => {
      const code = pathParam(req, "code");
      const definition = SERVICE_CODE.test(code) ? await serviceDefinition(deps.db, deps.municipalityId, code, locale) : null;
      if (!definition) throw new HttpError(404, "service_code: no such service");
      reply("service_definition", definition);
    }),
  );

  router.get(
    "/requests.:format",
    read(async ({ req, locale, reply }) => {
      const query = readRequestsQuery(req.query, deps.clock());
      reply("service_requests", await listPublicRequests(deps.db, deps.municipalityId, query, locale));
    }),
  );

  router.get(
    "/requests/:id.:format",
    read(async ({ req, locale, reply }) => {
      const id = pathParam(req, "id");
      const request = REFERENCE.test(id) && Number(id) <= MAX_REFERENCE ? await publicRequest(deps.db, deps.municipalityId, Number(id), locale) : null;
      if (!request) throw new HttpError(404, "service_request_id: no such request");
      reply("service_requests", [request]);
    }),
  );

  router.get(
    "/tokens/:token.:format",
    read(
      async () => {
        throw new HttpError(404, "This server is realtime: filing a request answers its service_request_id at once, so there are no tokens");
      },
      { open: true },
    ),
  );

  router.post("/requests.:format", (req, _res, next) => {
    if (!knownFormat(pathParam(req, "format"))) return next();
    throw new HttpError(403, "api_key: Filing through Open311 needs a client key; keys are not issued yet");
  });

  router.use((_req, _res, next) => next(new HttpError(404, "Not found: no such endpoint here (discovery.xml lists them; formats are .xml and .json)")));
  router.use(open311Errors(deps.logger));
  return router;
}
