import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { prepareDatabase } from "../boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "../config.js";
import type { Db } from "../db/createDb.js";
import { createI18n } from "../i18n/createI18n.js";
import { assertNever } from "../lib/assertNever.js";
import { createLogger } from "../lib/logger.js";
import { hashPassword } from "../services/passwords.js";
import { createStaff } from "../services/staff.js";
import { runAsScript } from "./runCli.js";

/** What ADMIN_USERNAME accepts, and the staff admin page. */
const USERNAME = /^[a-z0-9._-]{3,40}$/;
export const MIN_ADMIN_PASSWORD = 10;

export interface NewAdmin {
  username: string;
  password: string;
  displayName?: string | undefined;
  locale?: "ar" | "en" | undefined;
}

export type CreateAdminResult = { ok: true; id: number } | { ok: false; error: "bad_username" | "short_password" | "exists" };

/** Checks what can be checked without a database: the username's shape and the password's length. */
export function checkNewAdmin(input: NewAdmin): CreateAdminResult | null {
  if (!USERNAME.test(input.username)) return { ok: false, error: "bad_username" };
  if ([...input.password].length < MIN_ADMIN_PASSWORD) return { ok: false, error: "short_password" };
  return null;
}

/**
 * Creates an administrator account, unless the username is malformed or taken or the password is
 * shorter than ten characters (then nothing is written).
 */
export async function createAdmin(db: Db, municipalityId: string, input: NewAdmin): Promise<CreateAdminResult> {
  const refused = checkNewAdmin(input);
  if (refused) return refused;
  const exists = await db.staff.findUnique({ where: { municipalityId_username: { municipalityId, username: input.username } } });
  if (exists) return { ok: false, error: "exists" };
  // Hashed before the transaction, which on SQLite holds every other query (a running server's) until it ends.
  const passwordHash = await hashPassword(input.password);
  try {
    const staff = await db.$transaction((tx) =>
      createStaff(tx, {
        municipalityId,
        username: input.username,
        displayName: input.displayName?.trim() || input.username,
        passwordHash,
        role: "admin",
        departments: [],
        locale: input.locale ?? "ar",
      }),
    );
    return { ok: true, id: staff.id };
  } catch (error) {
    // Someone created the same username a moment ago.
    if (typeof error === "object" && error !== null && "code" in error && error.code === "P2002") return { ok: false, error: "exists" };
    throw error;
  }
}

/** Reads a line without echoing it (a password typed in a terminal). */
function askHidden(question: string): Promise<string> {
  const { stdin, stdout } = process;
  stdout.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = () => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      stdout.write("\n");
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") {
          finish();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          finish();
          reject(new ConfigError(""));
          return;
        }
        value = ch === "\u007f" || ch === "\b" ? [...value].slice(0, -1).join("") : value + ch;
      }
    };
    stdin.on("data", onData);
  });
}

/** `npm run staff:create-admin -- --username hala --password '…'`; asks for what is missing on a terminal. */
async function main() {
  const { values } = parseArgs({
    options: {
      username: { type: "string" },
      password: { type: "string" },
      "display-name": { type: "string" },
      locale: { type: "string", default: "ar" },
      ui: { type: "string", default: "en" },
      help: { type: "boolean", default: false },
    },
  });
  const t = createI18n().getFixedT(values.ui === "ar" ? "ar" : "en", "staff");
  const text = (key: string, params: Record<string, string | number> = {}) => String(t(`cli.createAdmin.${key}`, params));
  if (values.help) return void console.log(text("usage"));

  let { username, password } = values;
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  if (username === undefined && interactive) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    username = (await rl.question(text("askUsername"))).trim();
    rl.close();
  }
  if (password === undefined && interactive) password = await askHidden(text("askPassword", { min: MIN_ADMIN_PASSWORD }));
  if (username === undefined || password === undefined) throw new ConfigError(`${text("missing")}\n${text("usage")}`);

  const input: NewAdmin = { username: username.trim().toLowerCase(), password, displayName: values["display-name"], locale: values.locale === "en" ? "en" : "ar" };
  const early = checkNewAdmin(input);
  if (early) throw new ConfigError(messageFor(early, text, input.username));

  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log.level === "info" ? "warn" : config.log.level);
  // Migrated and seeded like `npm start`; an up-to-date database is left alone, even while the server runs.
  const db = await prepareDatabase(config, logger);
  try {
    const result = await createAdmin(db, config.municipality.id, input);
    if (!result.ok) throw new ConfigError(messageFor(result, text, input.username));
    console.log(text("created", { username: input.username, url: `${config.server.publicBaseUrl}/staff/login` }));
  } finally {
    await db.$disconnect();
  }
}

function messageFor(result: CreateAdminResult, text: (key: string, params?: Record<string, string | number>) => string, username: string): string {
  if (result.ok) return "";
  switch (result.error) {
    case "bad_username":
      return text("badUsername");
    case "short_password":
      return text("shortPassword", { min: MIN_ADMIN_PASSWORD });
    case "exists":
      return text("exists", { username });
    default:
      return assertNever(result.error);
  }
}

runAsScript(import.meta.url, main);
