import type { Request, Response } from "express";
import { z } from "zod";
import { clearStaffCookie, FLASH_COOKIE, readCookie, setSignedCookie, unsignValue } from "./cookies.js";

/** A message shown once on the next page, already in the staff member's language. */
export const FlashMessage = z.object({ kind: z.enum(["success", "error", "info"]), text: z.string().max(600) });
export type FlashMessage = z.infer<typeof FlashMessage>;

interface Secrets {
  sessionSecret: string;
  publicBaseUrl: string;
}

/** Redirects (303, after a form) with messages for the next page. */
export function redirectWithFlash(res: Response, deps: Secrets, location: string, messages: FlashMessage[]): void {
  if (messages.length > 0) {
    const value = Buffer.from(JSON.stringify(messages.slice(0, 5))).toString("base64url");
    setSignedCookie(res, { secret: deps.sessionSecret, publicBaseUrl: deps.publicBaseUrl }, FLASH_COOKIE, "flash", value, { maxAge: 60_000 });
  }
  res.redirect(303, location);
}

/** The messages left for this page by the previous request; they are shown once. */
export function takeFlash(req: Request, res: Response, deps: Secrets): FlashMessage[] {
  const signed = readCookie(req, FLASH_COOKIE);
  if (!signed) return [];
  clearStaffCookie(res, deps.publicBaseUrl, FLASH_COOKIE);
  const value = unsignValue(deps.sessionSecret, "flash", signed);
  if (!value) return [];
  try {
    return z.array(FlashMessage).catch([]).parse(JSON.parse(Buffer.from(value, "base64url").toString("utf8")));
  } catch {
    return [];
  }
}
