import { createHmac, timingSafeEqual } from "node:crypto";
import { parseCookie } from "cookie";
import type { CookieOptions, Request, Response } from "express";

export const SESSION_COOKIE = "baladiya_session";
export const LOGIN_COOKIE = "baladiya_login";
export const FLASH_COOKIE = "baladiya_flash";

/** Why a value is signed: a signature made for one purpose is worthless for another. */
export type CookiePurpose = "session" | "login" | "flash";

const mac = (secret: string, purpose: CookiePurpose, value: string) => createHmac("sha256", secret).update(`${purpose}:${value}`).digest("base64url");

/** `value.signature`, an HMAC-SHA256 of the value with the session secret. */
export function signValue(secret: string, purpose: CookiePurpose, value: string): string {
  return `${value}.${mac(secret, purpose, value)}`;
}

/** The value of a signed string, or null when the signature does not match. */
export function unsignValue(secret: string, purpose: CookiePurpose, signed: string | undefined): string | null {
  if (!signed) return null;
  const dot = signed.lastIndexOf(".");
  if (dot <= 0) return null;
  const value = signed.slice(0, dot);
  return equalStrings(signed.slice(dot + 1), mac(secret, purpose, value)) ? value : null;
}

/** Compares two secrets in constant time. */
export function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A cookie sent with the request, or undefined. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  return header ? parseCookie(header)[name] : undefined;
}

/** Options every staff cookie shares: HttpOnly, SameSite=Lax, only under /staff, Secure over https. */
export function cookieOptions(publicBaseUrl: string, extra: CookieOptions = {}): CookieOptions {
  return { httpOnly: true, sameSite: "lax", path: "/staff", secure: publicBaseUrl.startsWith("https:"), ...extra };
}

/** Sets a signed cookie. */
export function setSignedCookie(res: Response, opts: { secret: string; publicBaseUrl: string }, name: string, purpose: CookiePurpose, value: string, extra: CookieOptions = {}) {
  res.cookie(name, signValue(opts.secret, purpose, value), cookieOptions(opts.publicBaseUrl, extra));
}

/** Removes a cookie set with `cookieOptions`. */
export function clearStaffCookie(res: Response, publicBaseUrl: string, name: string, extra: CookieOptions = {}) {
  const { maxAge: _maxAge, expires: _expires, ...options } = cookieOptions(publicBaseUrl, extra);
  res.clearCookie(name, options);
}
