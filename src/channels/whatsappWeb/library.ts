import path from "node:path";
import type { WhatsAppWebClient } from "./client.js";

export interface LibraryOptions {
  /** Debian's Chromium (CHROMIUM_PATH): puppeteer never downloads a browser here (.puppeteerrc.cjs). */
  chromiumPath: string;
  /** WHATSAPP_WEB_DATA_DIR: LocalAuth keeps the linked session in `<dataDir>/session`. */
  dataDir: string;
  /** The town: one linked phone (one Chromium profile) per municipality. */
  clientId: string;
}

/** Where LocalAuth keeps the Chromium profile of `clientId` (the lock file lives there). */
export const profileDir = (options: Pick<LibraryOptions, "dataDir" | "clientId">) => path.resolve(options.dataDir, "session", `session-${options.clientId}`);

/**
 * Chromium's flags: no GPU, no first-run UI, /tmp instead of a small /dev/shm (containers). The
 * sandbox is only turned off when running as root, where Chromium refuses to start with it.
 */
export function chromiumArgs(isRoot: boolean): string[] {
  return [...(isRoot ? ["--no-sandbox", "--disable-setuid-sandbox"] : []), "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"];
}

/**
 * A whatsapp-web.js client, the library loaded on first use only (~0.4 s and ~35 MB): a deployment
 * without WhatsApp Web — or an instance that does not hold the session — never loads it. The
 * library is CommonJS: its ESM default export is the module object (a named import of LocalAuth
 * would be undefined).
 */
export async function createLibraryClient(options: LibraryOptions): Promise<WhatsAppWebClient> {
  const { default: library } = await import("whatsapp-web.js");
  const { Client, LocalAuth } = library;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const client = new Client({
    authStrategy: new LocalAuth({ clientId: options.clientId, dataPath: path.resolve(options.dataDir, "session") }),
    puppeteer: { executablePath: options.chromiumPath, headless: true, args: chromiumArgs(isRoot) },
    // How the phone's "Linked devices" list names this server.
    deviceName: "Baladiya",
  });
  // On a logout the library's own page listener deletes the profile and injects itself again into
  // the page we are closing; that rejects with nobody to catch it. Our logout and destroy come first.
  const page = () => (client as unknown as { pupPage?: { removeAllListeners?: (event: string) => void } }).pupPage;
  const quiet = <T>(action: () => Promise<T>) => async () => {
    page()?.removeAllListeners?.("framenavigated");
    return action();
  };
  client.logout = quiet(client.logout.bind(client));
  client.destroy = quiet(client.destroy.bind(client));
  return client as unknown as WhatsAppWebClient;
}

/**
 * A promise rejection the library (or puppeteer under it) left without a handler: its page listeners
 * run unawaited, and reject when the browser closes under them (a logout from the phone, a
 * reconnection). Those are logged, not allowed to bring the whole server down.
 */
export function isLibraryRejection(reason: unknown): boolean {
  const stack = reason instanceof Error ? (reason.stack ?? "") : "";
  return /node_modules[\\/](whatsapp-web\.js|puppeteer-core|puppeteer)[\\/]/.test(stack);
}
