import { randomInt as cryptoRandomInt } from "node:crypto";
import express, { Router, type Request, type RequestHandler, type Response } from "express";
import { rateLimit } from "express-rate-limit";
import type { i18n } from "i18next";
import type { Logger } from "pino";
import type { Config } from "../../config.js";
import type { Locale } from "../../conversation/types.js";
import type { Db } from "../../db/createDb.js";
import type { RandomInt } from "../../db/hot/tickets.js";
import { beirutW3c } from "../../lib/beirutTime.js";
import { HttpError } from "../../lib/httpError.js";
import type { O311Documents, O311Root } from "../../services/open311/document.js";
import { clientForKey, type Open311ClientRef } from "../../services/open311/clients.js";
import { fileOpen311Request } from "../../services/open311/filing.js";
import { listPublicRequests, MAX_REFERENCE, publicRequest } from "../../services/open311/requests.js";
import { listServices, serviceDefinition, servicesChangeset } from "../../services/open311/services.js";
import { listPublicUpdates } from "../../services/open311/updates.js";
import { DEFAULT_CHILD_ZONE_METRES } from "../../services/places/placeTypes.js";
import { hasNul, rejectNul } from "../rejectNul.js";
import { readMultipartBody } from "../staff/multipartUpload.js";
import { checkJurisdiction, explicitLocaleOf, localeOf, pathParam, queryValues, readFilingForm, readRequestsQuery, readUpdatesQuery, type Form } from "./params.js";
import { formatOf, knownFormat, Open311Error, open311Errors, sendDocument, sendErrors } from "./respond.js";

/** What the Open311 server needs, and nothing more. */
export interface Open311Deps {
  db: Db;
  logger: Logger;
  municipalityId: string;
  /** The endpoint's address in discovery is this plus /open311/v2. */
  publicBaseUrl: string;
  settings: Config["open311"];
  clock: () => Date;
  /** The service notices a filed request is answered with (locales/*\/open311Api.json). */
  i18n: i18n;
  /** Picks references (tests make them predictable); crypto's by default. */
  randomInt?: RandomInt;
  /** CHILD_ZONE_METRES: a request filed within it of a child-related place is child-related. */
  childZoneMetres?: number;
}

export const GEOREPORT_V2 = "http://wiki.open311.org/GeoReport_v2";
/** The largest filing form read (a description of 4,000 Arabic characters is about 8 kB escaped three times over). */
const MAX_FORM_BYTES = 64 * 1024;
const urlEncodedForm = express.urlencoded({ extended: false, limit: MAX_FORM_BYTES, parameterLimit: 300 });
// Path segments this server could have: anything else is a 404 without asking the database.
const SERVICE_CODE = /^[A-Za-z0-9_-]{1,100}$/;
const REFERENCE = /^\d{1,10}$/;

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
 * 429 too many reads from one address or filings with one key, 500. Reads carry
 * `Access-Control-Allow-Origin: *` so the town's website can show them. Filing (POST requests)
 * needs a client key (`api_key`, made by an admin); servicerequestupdates (mySociety's extension)
 * lists the town's public answers for FixMyStreet.
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
  // Posts from one address have a budget of their own (a client's reads do not eat its filings):
  // a flood of POSTs with made-up keys is stopped here, before its form is read or a key looked up.
  router.use(
    rateLimit({
      windowMs: 60_000,
      limit: settings.readsPerMinute,
      skip: (req) => req.method !== "POST",
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (req, res) => sendErrors(res, formatOf(req), 429, [`Too many requests: at most ${settings.readsPerMinute} posts a minute from one address; try again in a minute`]),
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
      if (!settings.publicRead && !options.open) {
        const [key] = queryValues(req.query, "api_key");
        if (!key) throw new HttpError(403, "api_key: reading through Open311 needs a client key from the municipality");
        if (!(await clientForKey(deps.db, deps.municipalityId, key, deps.clock()))) throw new HttpError(403, "api_key: not a valid client key (unknown or revoked)");
      }
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
            ? `Reading needs no key. Filing requests needs a client key (api_key), issued by the municipality's administrators: ${settings.contact}`
            : `Reading and filing need a client key (api_key), issued by the municipality's administrators: ${settings.contact}`,
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

  router.get(
    "/servicerequestupdates.:format",
    read(async ({ req, reply }) => reply("service_request_updates", await listPublicUpdates(deps.db, deps.municipalityId, readUpdatesQuery(req.query, deps.clock())))),
  );
  router.post("/servicerequestupdates.:format", (req, _res, next) => {
    if (!knownFormat(pathParam(req, "format"))) return next();
    throw new HttpError(400, "This server publishes the municipality's updates; it does not take updates from clients");
  });

  router.post(
    "/requests.:format",
    (req, _res, next) => (knownFormat(pathParam(req, "format")) ? next() : next("route")),
    readPostedForm,
    async (req, res, next) => {
      const form = res.locals.open311Form as Form;
      checkJurisdiction(form, settings.jurisdictionId);
      const [key, ...more] = [form.api_key].flat().filter((v): v is string => typeof v === "string" && v.trim() !== "");
      if (!key) throw new HttpError(403, "api_key: filing a request needs a client key from the municipality");
      if (more.length > 0) throw new HttpError(400, "api_key: give it once");
      const client = await clientForKey(deps.db, deps.municipalityId, key.trim(), deps.clock());
      if (!client) throw new HttpError(403, "api_key: not a valid client key (unknown or revoked)");
      res.locals.open311Client = client;
      next();
    },
    rateLimit({
      windowMs: 60_000,
      limit: settings.writesPerMinute,
      keyGenerator: (_req, res) => `client:${(res.locals.open311Client as Open311ClientRef).id}`,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      handler: (req, res) => sendErrors(res, formatOf(req), 429, [`Too many requests filed: at most ${settings.writesPerMinute} a minute with one key; try again in a minute`]),
    }),
    async (req, res) => {
      const format = knownFormat(pathParam(req, "format"))!;
      const form = res.locals.open311Form as Form;
      const client = res.locals.open311Client as Open311ClientRef;
      const asked = explicitLocaleOf(req, form);
      // The ticket is in the language the client asked in, else the town's; the answer in the asked one, else English.
      const input = readFilingForm(form, asked ?? "ar");
      const outcome = await fileOpen311Request(deps.db, input, {
        municipalityId: deps.municipalityId,
        client,
        now: deps.clock(),
        randomInt: deps.randomInt ?? ((n) => cryptoRandomInt(n)),
        zoneMetres: deps.childZoneMetres ?? DEFAULT_CHILD_ZONE_METRES,
      });
      if (!outcome.ok) throw new Open311Error(outcome.status, outcome.problems.slice(0, 10));
      deps.logger.info({ client: client.id, reference: outcome.reference, repeated: outcome.repeated || undefined }, "open311 request filed");
      const t = deps.i18n.getFixedT(asked ?? "en", "open311Api");
      const notice = [t("notice.filed", { reference: outcome.reference }), outcome.residentLinked ? t("notice.sms") : t("notice.noPhone")].join(" ");
      sendDocument(res, format, "service_requests", [{ service_request_id: String(outcome.reference), service_notice: notice, account_id: input.accountId }]);
    },
  );

  router.use((_req, _res, next) => next(new HttpError(404, "Not found: no such endpoint here (discovery.xml lists them; formats are .xml and .json)")));
  router.use(open311Errors(deps.logger));
  return router;
}

/**
 * POST requests' arguments: the form (url-encoded, as the specification says, or multipart without
 * files), with any argument the form lacks taken from the query string (some clients put them there).
 * Repeated fields stay lists. Anything else is a 400 in the format asked for.
 */
async function readPostedForm(req: Request, res: Response, next: (error?: unknown) => void): Promise<void> {
  const type = req.get("content-type") ?? "";
  // Null-prototype objects: a field named "__proto__", "constructor" or "toString" is only a field.
  let body: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (/^multipart\/form-data/i.test(type)) {
    const read = await readMultipartBody(req, res, MAX_FORM_BYTES);
    if (!read) throw new HttpError(400, "The request body is too large");
    // A browser's empty file input (no name, no bytes) is not a file.
    if (read.files.some((f) => f.filename !== "" || f.data.length > 0)) throw new HttpError(400, "media: files are not taken here; send a link as media_url");
    for (const [name, value] of read.fieldList) {
      body[name] = Object.hasOwn(body, name) ? [...[body[name]!].flat(), value] : value;
    }
  } else if (/^application\/x-www-form-urlencoded/i.test(type)) {
    await new Promise<void>((resolve, reject) => urlEncodedForm(req, res, (error?: unknown) => (error ? reject(error as Error) : resolve())));
    Object.assign(body, req.body ?? {});
  } else if (type === "" && req.get("transfer-encoding") === undefined && Number(req.get("content-length") ?? 0) === 0) {
    // No body at all: every argument is in the query string.
  } else {
    throw new HttpError(400, "Send the request form-encoded (application/x-www-form-urlencoded), as GeoReport v2 says");
  }
  const form = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of Object.entries(req.query)) {
    if (typeof value === "string" || (Array.isArray(value) && value.every((v) => typeof v === "string"))) form[name] = value as string | string[];
  }
  Object.assign(form, body);
  if (hasNul(form)) throw new HttpError(400, "Text must not contain NUL characters");
  res.locals.open311Form = form;
  next();
}
