import { parseArgs } from "node:util";
import { prepareDatabase } from "../boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "../config.js";
import { createI18n } from "../i18n/createI18n.js";
import { createLogger } from "../lib/logger.js";
import { createOpen311Client, MAX_CLIENT_NAME, readClientName, type ClientNameProblem } from "../services/open311/clients.js";
import { runAsScript } from "./runCli.js";

/** What an operator reads when a name is refused (locales/{ar,en}/cli.json, `open311Key`). */
const NAME_PROBLEM: Record<ClientNameProblem, string> = { blank: "blank", too_long: "tooLong", control: "control" };

/**
 * `npm run open311:key -- "FixMyStreet Lebanon"`: creates an Open311 client with the same service as
 * the admin page (no staff member made it: createdById is null) and prints its key alone on stdout
 * (so `KEY=$(npm run --silent open311:key -- "…")` works), with a short note on stderr. A bad name is
 * refused before the database is touched; the exit code is then 1.
 */
async function main() {
  // Not strict: the language is known before an unknown option is refused, in that language.
  const { values, positionals } = parseArgs({ strict: false, allowPositionals: true, options: { ui: { type: "string", default: "en" }, help: { type: "boolean", default: false } } });
  const t = createI18n().getFixedT(values.ui === "ar" ? "ar" : "en", "cli");
  const text = (key: string, params: Record<string, string | number> = {}) => String(t(`open311Key.${key}`, params));
  const unknown = Object.keys(values).filter((option) => option !== "ui" && option !== "help");
  if (unknown.length > 0 || typeof values.help !== "boolean") throw new ConfigError(`${text("unknownOption", { option: `--${unknown[0] ?? "help"}` })}\n${text("usage")}`);
  if (values.help) return void console.log(text("usage"));

  if (positionals.length === 0) throw new ConfigError(`${text("missing")}\n${text("usage")}`);
  if (positionals.length > 1) throw new ConfigError(text("oneName"));
  const read = readClientName(positionals[0]!);
  if (!read.ok) throw new ConfigError(text(NAME_PROBLEM[read.problem], { max: MAX_CLIENT_NAME }));

  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config.log.level === "info" ? "warn" : config.log.level);
  // Migrated and seeded like `npm start`; an up-to-date database is left alone, even while the server runs.
  const db = await prepareDatabase(config, logger);
  try {
    const result = await db.$transaction((tx) => createOpen311Client(tx, { municipalityId: config.municipality.id, name: read.name, createdById: null, now: new Date() }));
    if (!result.ok) throw new ConfigError(text(NAME_PROBLEM[result.problem], { max: MAX_CLIENT_NAME }));
    process.stdout.write(`${result.key}\n`);
    const base = config.server.publicBaseUrl;
    console.error(text("created", { name: result.record.name, url: `${base}/open311/v2/requests.json`, page: `${base}/staff/admin/open311-clients` }));
  } finally {
    await db.$disconnect();
  }
}

runAsScript(import.meta.url, main);
