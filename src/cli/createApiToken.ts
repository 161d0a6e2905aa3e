import { parseArgs } from "node:util";
import { prepareDatabase } from "../boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "../config.js";
import type { Db } from "../db/createDb.js";
import { createI18n } from "../i18n/createI18n.js";
import { createLogger } from "../lib/logger.js";
import { createApiToken } from "../services/apiTokens.js";
import { runAsScript } from "./runCli.js";

/** The longest token name, as on the staff page that creates tokens. */
export const MAX_TOKEN_NAME = 80;

export type CreateTokenResult = { ok: true; token: string; role: string } | { ok: false; error: "bad_name" | "unknown_user" };

/**
 * Creates an API token acting as an active staff member of the municipality, through the same
 * service as the staff page (only the token's hash is stored). The token is returned once.
 */
export async function createApiTokenFor(db: Db, municipalityId: string, input: { username: string; name: string }): Promise<CreateTokenResult> {
  const name = input.name.trim();
  if (name.length === 0 || [...name].length > MAX_TOKEN_NAME) return { ok: false, error: "bad_name" };
  const staff = await db.staff.findUnique({ where: { municipalityId_username: { municipalityId, username: input.username.trim().toLowerCase() } } });
  if (!staff || !staff.active) return { ok: false, error: "unknown_user" };
  const { token } = await db.$transaction((tx) => createApiToken(tx, { municipalityId, staffId: staff.id, name }));
  return { ok: true, token, role: staff.role };
}

/**
 * `npm run staff:api-token -- --username hala --name "GIS sync"`: prints the new token alone on
 * stdout (so `TOKEN=$(npm run --silent staff:api-token -- …)` works) and a short note on stderr.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      username: { type: "string" },
      name: { type: "string" },
      ui: { type: "string", default: "en" },
      help: { type: "boolean", default: false },
    },
  });
  const t = createI18n().getFixedT(values.ui === "ar" ? "ar" : "en", "cli");
  const text = (key: string, params: Record<string, string | number> = {}) => String(t(`apiToken.${key}`, params));
  if (values.help) return void console.log(text("usage"));

  const { username, name } = values;
  if (!username?.trim() || name === undefined) throw new ConfigError(`${text("missing")}\n${text("usage")}`);
  if (name.trim().length === 0 || [...name.trim()].length > MAX_TOKEN_NAME) throw new ConfigError(text("badName"));

  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log.level === "info" ? "warn" : config.log.level);
  // Migrated and seeded like `npm start`; an up-to-date database is left alone, even while the server runs.
  const db = await prepareDatabase(config, logger);
  try {
    const result = await createApiTokenFor(db, config.municipality.id, { username, name });
    if (!result.ok) throw new ConfigError(result.error === "bad_name" ? text("badName") : text("unknownUser", { username: username.trim().toLowerCase() }));
    process.stdout.write(`${result.token}\n`);
    console.error(text("created", { name: name.trim(), username: username.trim().toLowerCase(), role: result.role }));
  } finally {
    await db.$disconnect();
  }
}

runAsScript(import.meta.url, main);
