import type { Express } from "express";
import request, { type Response } from "supertest";
import { expect } from "vitest";
import { createApp } from "../../../src/http/createApp.js";
import { createStaff, type NewStaff } from "../../../src/services/staff.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../../support/twilio.js";

export type World = Awaited<ReturnType<typeof createTestWorld>>;

/** The people of the test town hall. Each account costs a slow password hash: files reuse them. */
export const PEOPLE = {
  hala: { username: "hala", password: "hala-admin-pass", displayName: "Hala", role: "admin", departments: [], locale: "ar" },
  rania: { username: "rania", password: "rania-agent-pass", displayName: "Rania", role: "agent", departments: ["public_works"], locale: "ar" },
  karim: { username: "karim", password: "karim-agent-pass", displayName: "Karim", role: "agent", departments: ["electricity", "water"], locale: "en" },
  nadim: { username: "nadim", password: "nadim-agent-pass", displayName: "Nadim", role: "agent", departments: ["finance"], locale: "en" },
} as const satisfies Record<string, Omit<NewStaff, "municipalityId" | "departments"> & { departments: readonly string[] }>;
export type Person = keyof typeof PEOPLE;

/** Creates the given staff accounts; returns their ids. */
export async function hire(world: World, ...people: Person[]): Promise<Record<Person, number>> {
  const ids: Partial<Record<Person, number>> = {};
  for (const name of people) {
    const p = PEOPLE[name];
    const staff = await world.db.$transaction((tx) => createStaff(tx, { ...p, departments: [...p.departments], municipalityId: MUNICIPALITY }));
    ids[name] = staff.id;
  }
  return ids as Record<Person, number>;
}

/** The hidden CSRF field of the first form on a page. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error("no CSRF field on this page");
  return token;
}

/** Decodes the few entities our pages use, to compare with plain text. */
export const textOf = (html: string) =>
  html.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

let nextIp = 1;

/**
 * A browser for supertest: keeps the cookies the server sets (supertest's agent would drop the
 * Secure ones, as the test app's public URL is https), and remembers the last page's CSRF token.
 * Each browser has its own client address, so the sign-in rate limit does not leak between tests.
 */
export class StaffBrowser {
  readonly cookies = new Map<string, string>();
  csrf = "";
  readonly ip: string;

  constructor(
    readonly app: Express,
    ip?: string,
  ) {
    this.ip = ip ?? `10.0.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private absorb(res: Response): Response {
    const setCookies = res.headers["set-cookie"];
    for (const line of Array.isArray(setCookies) ? setCookies : setCookies ? [setCookies] : []) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /Expires=Thu, 01 Jan 1970/i.test(line) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    if (typeof res.text === "string" && res.text.includes('name="_csrf"')) this.csrf = csrfOf(res.text);
    return res;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    const res = await request(this.app).get(path).set({ Cookie: this.cookieHeader(), "X-Forwarded-For": this.ip, Accept: "text/html", ...headers });
    return this.absorb(res);
  }

  /** Submits a form as the page would, with the page's CSRF token unless `_csrf` is given. */
  async post(path: string, form: Record<string, string | string[]> = {}, headers: Record<string, string> = {}): Promise<Response> {
    const body = new URLSearchParams();
    const fields: Record<string, string | string[]> = { _csrf: this.csrf, ...form };
    for (const [k, v] of Object.entries(fields)) for (const value of Array.isArray(v) ? v : [v]) body.append(k, value);
    const res = await request(this.app)
      .post(path)
      .type("form")
      .set({ Cookie: this.cookieHeader(), "X-Forwarded-For": this.ip, Accept: "text/html", ...headers })
      .send(body.toString());
    return this.absorb(res);
  }

  /** A JSON request as the page's scripts make it. */
  async postJson(path: string, json: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const res = await request(this.app)
      .post(path)
      .set({ Cookie: this.cookieHeader(), "X-Forwarded-For": this.ip, "X-Requested-With": "fetch", "X-CSRF-Token": this.csrf, ...headers })
      .send(json as object);
    return this.absorb(res);
  }

  /** Fills in the sign-in form; returns the answer to the POST. */
  async signIn(username: string, password: string): Promise<Response> {
    await this.get("/staff/login");
    return this.post("/staff/login", { username, password });
  }

  /** Follows a redirect (303 after a form). */
  async follow(res: Response): Promise<Response> {
    expect([302, 303]).toContain(res.status);
    return this.get(res.headers.location ?? "/staff");
  }
}

/** A browser already signed in as one of PEOPLE, on its queue page (CSRF token ready). */
export async function signedIn(app: Express, person: Person): Promise<StaffBrowser> {
  const browser = new StaffBrowser(app);
  const res = await browser.signIn(PEOPLE[person].username, PEOPLE[person].password);
  expect(res.status, res.text).toBe(303);
  await browser.get("/staff");
  return browser;
}

let phoneCounter = 0;
/** A phone number no other test resident uses. */
export const freshPhone = () => `+9617${String(3000000 + ++phoneCounter).slice(1)}`;

/** A resident writes to the town hall (a signed Twilio webhook); returns the bot's answer. */
export async function residentSays(app: Express, from: string, body: string, channel: "sms" | "whatsapp" = "sms"): Promise<string> {
  const fields = channel === "sms" ? twilioPayload("sms", { From: from, Body: body }) : twilioPayload("whatsapp-text", { From: `whatsapp:${from}`, Body: body });
  const res = await postToTwilioWebhook(app, fields);
  expect(res.status).toBe(200);
  return twimlMessages(res.text).join("\n");
}

/**
 * A resident files a request over SMS as people do: a sentence the bot recognises, "1" to confirm
 * the category, a landmark, "1" to send. Returns the reference the bot gave.
 */
export async function residentFiles(app: Express, from: string, sentence: string, landmark = "near the church"): Promise<number> {
  await residentSays(app, from, sentence);
  await residentSays(app, from, "1");
  await residentSays(app, from, landmark);
  const filed = await residentSays(app, from, "1");
  const reference = Number(/#(\d+)/.exec(filed)?.[1]);
  expect(reference, filed).toBeGreaterThan(0);
  return reference;
}

/** A resident asks for a person ("talk to someone"): a ticket waiting for staff. */
export async function residentAsksForPerson(app: Express, from: string, channel: "sms" | "whatsapp" = "sms"): Promise<number> {
  const answer = await residentSays(app, from, "talk to someone", channel);
  const reference = Number(/#(\d+)/.exec(answer)?.[1]);
  expect(reference, answer).toBeGreaterThan(0);
  return reference;
}

/** The same app with a clock the test moves. */
export function appWithClock(world: World, start = new Date()) {
  let now = start;
  const app = createApp({ ...world.deps, clock: () => now });
  return {
    app,
    now: () => now,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}
