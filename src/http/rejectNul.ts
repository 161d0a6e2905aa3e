import type { RequestHandler } from "express";
import { HttpError } from "../lib/httpError.js";

/** Whether a parsed value (a string, a list, an object's keys and values) holds a NUL character anywhere. */
export function hasNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(hasNul);
  if (typeof value === "object" && value !== null) return Object.entries(value).some(([k, v]) => k.includes("\u0000") || hasNul(v));
  return false;
}

/**
 * Refuses any parsed form, JSON body or query string that contains a NUL character: nobody types
 * one, and PostgreSQL cannot store it (it would be a 500 instead of a clear 400).
 */
export const rejectNul: RequestHandler = (req, _res, next) => {
  if (hasNul(req.query) || hasNul(req.body)) return next(new HttpError(400, "Text must not contain NUL characters"));
  next();
};
