import type { Request, RequestHandler } from "express";
import type { Db } from "../../db/createDb.js";
import { HttpError } from "../../lib/httpError.js";
import { actorForApiToken } from "../../services/apiTokens.js";
import type { Actor } from "../../services/staff.js";

export interface BearerAuthDeps {
  db: Db;
  clock: () => Date;
}

const REALM = 'Bearer realm="baladiya-api"';
// RFC 6750's b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

// The actor of each authenticated request; a WeakMap keeps it typed without widening express's
// global Request type (the staff pages have their own notion of who is signed in).
const actors = new WeakMap<Request, Actor>();

/**
 * Middleware for /api/v1: `Authorization: Bearer <token>` must name a live API token of an active
 * staff member, who then acts with their role and departments (read it with `apiActor(req)`).
 * Anything else is a 401 with a `WWW-Authenticate: Bearer` challenge. Responses are not cached:
 * they carry residents' phone numbers.
 */
export function bearerAuth(deps: BearerAuthDeps): RequestHandler {
  return async (req, res, next) => {
    res.set("Cache-Control", "no-store");
    const header = req.header("Authorization");
    if (!header) {
      res.set("WWW-Authenticate", REALM);
      throw new HttpError(401, "Missing Authorization header: send 'Authorization: Bearer <token>'");
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      res.set("WWW-Authenticate", `${REALM}, error="invalid_request"`);
      throw new HttpError(401, "Malformed Authorization header: expected 'Bearer <token>'");
    }
    // Recording lastUsedAt is a write: it gets its own transaction.
    const actor = await deps.db.$transaction((tx) => actorForApiToken(tx, token, deps.clock()));
    if (!actor) {
      res.set("WWW-Authenticate", `${REALM}, error="invalid_token"`);
      throw new HttpError(401, "Invalid API token: unknown, revoked, or its staff account is deactivated");
    }
    actors.set(req, actor);
    next();
  };
}

/** The staff member behind the request's token; only valid in handlers placed after `bearerAuth`. */
export function apiActor(req: Request): Actor {
  const actor = actors.get(req);
  if (!actor) throw new Error("apiActor() used on a route without bearerAuth");
  return actor;
}
