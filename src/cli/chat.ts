import { parseArgs } from "node:util";
import { inboxFor, prepareDatabase } from "../boot.js";
import { ConfigError, loadConfig, loadDotEnv } from "../config.js";
import { CHANNELS } from "../conversation/types.js";
import { createI18n } from "../i18n/createI18n.js";
import { createLogger } from "../lib/logger.js";
import { toE164 } from "../lib/phone.js";
import { runChat } from "./runChat.js";

/** `npm run chat -- --channel sms|whatsapp --from +9617...`: chat with the bot as a resident. */
async function chat() {
  const i18n = createI18n();
  const { values } = parseArgs({
    options: {
      channel: { type: "string", default: "sms" },
      from: { type: "string", default: "+96171123456" },
      ui: { type: "string", default: "en" },
      help: { type: "boolean", default: false },
    },
  });
  const t = i18n.getFixedT(values.ui === "ar" ? "ar" : "en");
  if (values.help) return void console.log(t("cli:usage"));
  const channel = CHANNELS.find((c) => c === values.channel);
  if (!channel) throw new ConfigError(t("cli:badChannel"));
  const from = toE164(values.from);
  if (!from) throw new ConfigError(t("cli:badPhone"));

  loadDotEnv();
  const config = loadConfig();
  // The conversation is the output here: only warnings and errors go to the log.
  const logger = createLogger(config.log.level === "info" ? "warn" : config.log.level);
  const db = await prepareDatabase(config, logger);
  try {
    await runChat({ inbox: inboxFor(config, db, logger), channel, from, input: process.stdin, output: process.stdout, t });
  } finally {
    await db.$disconnect();
  }
}

chat().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
