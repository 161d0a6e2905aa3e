import { actorById, createStaff, type Actor } from "../../src/services/staff.js";
import { inbound } from "./builders.js";
import { createTestWorld, MUNICIPALITY } from "./testApp.js";

export type World = Awaited<ReturnType<typeof createTestWorld>>;

/** A staff member (scrypt hashing is slow: create a few per file and reuse them). */
export async function staffMember(world: World, fields: { username: string; role?: "admin" | "agent"; departments?: string[]; locale?: "ar" | "en" }): Promise<Actor> {
  const staff = await createStaff(world.db, {
    municipalityId: MUNICIPALITY,
    username: fields.username,
    displayName: fields.username[0]!.toUpperCase() + fields.username.slice(1),
    password: "correct horse battery",
    role: fields.role ?? "agent",
    departments: fields.departments ?? [],
    locale: fields.locale ?? "ar",
  });
  const actor = await actorById(world.db, staff.id);
  if (!actor) throw new Error("staff member not found");
  return actor;
}

let counter = 0;
/** A new resident phone number for each call. */
export const newPhone = () => `+9617${String(3000000 + ++counter).slice(1)}`;

/**
 * A resident files a request through the inbox exactly as on SMS or WhatsApp; returns its reference.
 * Arabic by default ("في جورة كبيرة بالطريق العام": roads, public works).
 */
export async function residentFiles(
  world: World,
  options: { from?: string; channel?: "sms" | "whatsapp"; lines?: string[] } = {},
): Promise<{ reference: number; from: string }> {
  const from = options.from ?? newPhone();
  const channel = options.channel ?? "sms";
  const lines = options.lines ?? (channel === "whatsapp" ? ["في جورة كبيرة بالطريق العام", "1", "قدام الجامع", "1", "1"] : ["في جورة كبيرة بالطريق العام", "1", "قدام الجامع", "1"]);
  let last = "";
  for (const text of lines) last = (await world.inbox(inbound({ from, channel, text }))).replies.join("\n");
  const reference = Number(/#(\d+)/.exec(last)?.[1]);
  if (!reference) throw new Error(`no reference in "${last}"`);
  return { reference, from };
}
