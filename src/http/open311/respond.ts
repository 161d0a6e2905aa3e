import type { ErrorRequestHandler, Request, Response } from "express";
import type { Logger } from "pino";
import { HttpError } from "../../lib/httpError.js";
import { toJson, toXml, type O311Documents, type O311Root } from "../../services/open311/document.js";

export type Open311Format = "xml" | "json";

const CONTENT_TYPES: Record<Open311Format, string> = {
  xml: "text/xml; charset=utf-8",
  json: "application/json; charset=utf-8",
};

/**
 * The format a request asks for, from its path's suffix (`services.json`): XML for anything but
 * ".json", so an unknown suffix (`services.html`) gets its 404 in XML, the specification's default.
 */
export function formatOf(req: Request): Open311Format {
  return /\.json$/i.test(req.path) ? "json" : "xml";
}

/** "xml" or "json" as the URL spells it (case aside), or null for any other suffix. */
export function knownFormat(suffix: string): Open311Format | null {
  const lower = suffix.toLowerCase();
  return lower === "xml" || lower === "json" ? lower : null;
}

/** Answers with an Open311 document in the format asked for. */
export function sendDocument<R extends O311Root>(res: Response, format: Open311Format, root: R, value: O311Documents[R], status = 200): void {
  res
    .status(status)
    .set("Content-Type", CONTENT_TYPES[format])
    .send(format === "xml" ? toXml(root, value) : toJson(root, value));
}

/** Answers with `<errors>`: one `<error>` per description, each with the HTTP status as its code. */
export function sendErrors(res: Response, format: Open311Format, status: number, descriptions: readonly string[]): void {
  sendDocument(
    res,
    format,
    "errors",
    descriptions.map((description) => ({ code: status, description })),
    status,
  );
}

/**
 * An Open311 failure with one or more problems (the specification lets a server list several
 * errors in one answer). A plain HttpError works too and gives one.
 */
export class Open311Error extends HttpError {
  constructor(
    status: number,
    readonly descriptions: readonly string[],
  ) {
    super(status, descriptions.join("; "));
  }
}

/**
 * The Open311 router's own error boundary: every failure is answered in the format the URL asked
 * for, never as HTML or the app's `{error}` JSON. Expected failures keep their status; body-parser
 * errors become 400 (the specification has no 413); anything else is logged — with the path only,
 * since query strings may carry an api_key — and answered 500 with nothing leaked.
 */
export function open311Errors(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const format = formatOf(req);
    if (res.headersSent) {
      logger.error({ err: error, method: req.method, path: req.baseUrl + req.path }, "open311 request failed after answering");
      return;
    }
    if (error instanceof Open311Error) return sendErrors(res, format, error.status, error.descriptions);
    if (error instanceof HttpError) return sendErrors(res, format, error.status, [error.message]);
    // A malformed %-escape in the path: express's router throws a URIError marked 400, not exposed.
    if (error instanceof URIError) return sendErrors(res, format, 400, ["The URL could not be read (a malformed %-escape)"]);
    if (typeof error === "object" && error !== null && "status" in error && "expose" in error && error.expose === true) {
      const status = Number(error.status);
      if (status >= 400 && status < 500) return sendErrors(res, format, 400, [status === 413 ? "The request body is too large" : "The request body could not be read"]);
    }
    logger.error({ err: error, method: req.method, path: req.baseUrl + req.path }, "open311 request failed");
    sendErrors(res, format, 500, ["Internal server error"]);
  };
}
