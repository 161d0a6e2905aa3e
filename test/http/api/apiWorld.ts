import type { Express } from "express";
import request from "supertest";
import { expect } from "vitest";
import { createApiToken } from "../../../src/services/apiTokens.js";
import { createStaff } from "../../../src/services/staff.js";
import { createTestWorld, MUNICIPALITY } from "../../support/testApp.js";
import { postToTwilioWebhook, twilioPayload, twimlMessages } from "../../support/twilio.js";

/**
 * A test world with three staff members who each hold an API token:
 * Hala (admin), Rania (agent, public works) and Karim (agent, water and electricity).
 * Creating staff hashes a password (~100 ms each): one world per file.
 */
export async function createApiWorld(options: Parameters<typeof createTestWorld>[0] = {}) {
  const world = await createTestWorld(options);
  const staff = await world.db.$transaction(async (tx) => {
    const make = (username: string, displayName: string, role: "admin" | "agent", departments: string[]) =>
      createStaff(tx, { municipalityId: MUNICIPALITY, username, displayName, password: `${username}-password-123`, role, departments, locale: "ar" });
    return {
      hala: await make("hala", "Hala", "admin", []),
      rania: await make("rania", "Rania", "agent", ["public_works"]),
      karim: await make("karim", "Karim", "agent", ["water", "electricity"]),
    };
  });
  const tokenFor = async (staffId: number, name = "integration") =>
    (await world.db.$transaction((tx) => createApiToken(tx, { municipalityId: MUNICIPALITY, staffId, name }))).token;
  const tokens = { hala: await tokenFor(staff.hala.id), rania: await tokenFor(staff.rania.id), karim: await tokenFor(staff.karim.id) };
  return { ...world, staff, tokens, tokenFor, api: apiClient(world.app) };
}

export type ApiWorld = Awaited<ReturnType<typeof createApiWorld>>;

/** supertest calls to /api/v1 with a bearer token. */
export function apiClient(app: Express) {
  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  return {
    get: (token: string, path: string) => request(app).get(`/api/v1${path}`).set(auth(token)),
    post: (token: string, path: string, body: object) => request(app).post(`/api/v1${path}`).set(auth(token)).send(body),
    patch: (token: string, path: string, body: object) => request(app).patch(`/api/v1${path}`).set(auth(token)).send(body),
  };
}

let phoneCounter = 0;
/** A Lebanese mobile number no other test in the file uses. */
export const freshPhone = () => `+96176${String(1_000_000 + ++phoneCounter).slice(1)}`;

/**
 * A resident files a request through the signed Twilio webhook, one message at a time, exactly as
 * from their phone; returns the reference the bot gave them.
 */
export async function residentFiles(app: Express, channel: "sms" | "whatsapp", phone: string, lines: readonly string[]): Promise<number> {
  let last = "";
  for (const Body of lines) {
    const res = await postToTwilioWebhook(app, twilioPayload(channel === "sms" ? "sms" : "whatsapp-text", { From: channel === "sms" ? phone : `whatsapp:${phone}`, Body }));
    expect(res.status).toBe(200);
    last = twimlMessages(res.text).join("\n");
  }
  const reference = /#(\d+)/.exec(last)?.[1];
  if (!reference) throw new Error(`No reference in the bot's last answer: ${last}`);
  return Number(reference);
}

/** The conversations the tests file: a pothole (public works), a water leak (water), a person asked for (administration). */
export const REQUESTS = {
  potholeBySms: ["في جورة كبيرة بالطريق العام", "1", "قدام الجامع", "1"],
  waterLeakBySms: ["water leaking from the pipe", "yes", "Main street", "yes"],
  potholeOnWhatsApp: ["fi jora kbire bel tari2", "1", "قرب الجامع", "1", "1"],
  askForSomeone: ["بدي احكي مع موظف"],
} as const;
