import type { ErrorRequestHandler } from "express";
import type { Logger } from "pino";
import { HttpError } from "../lib/httpError.js";

/** Errors raised by express's own body parsers carry an HTTP status and a safe message. */
function clientErrorOf(error: unknown): { status: number; message: string } | null {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  if (typeof error === "object" && error !== null && "status" in error && "expose" in error && error.expose === true) {
    const status = Number(error.status);
    if (status >= 400 && status < 500) {
      const message = status === 413 ? "Request body too large" : "Malformed request body";
      return { status, message };
    }
  }
  return null;
}

/**
 * The one error boundary: expected failures become their status with a short message; anything
 * else is logged and answered with a 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const client = clientErrorOf(error);
    if (client) {
      res.status(client.status).json({ error: client.message });
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, "request failed");
    if (res.headersSent) return;
    res.status(500).json({ error: "Internal server error" });
  };
}
