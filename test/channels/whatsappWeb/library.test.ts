import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { chromiumArgs, isLibraryRejection, profileDir } from "../../../src/channels/whatsappWeb/library.js";

const root = path.join(import.meta.dirname, "../../..");
const src = path.join(root, "src");

describe("chromiumArgs", () => {
  it("turns the sandbox off only as root, where Chromium refuses to start with it", () => {
    expect(chromiumArgs(true)).toEqual(expect.arrayContaining(["--no-sandbox", "--disable-setuid-sandbox"]));
    expect(chromiumArgs(false).filter((arg) => arg.includes("sandbox"))).toEqual([]);
  });

  it.each([true, false])("as root=%s: no GPU, no first-run UI, /tmp rather than a small /dev/shm", (isRoot) => {
    expect(chromiumArgs(isRoot)).toEqual(expect.arrayContaining(["--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"]));
  });
});

describe("profileDir", () => {
  it("is where LocalAuth keeps the town's Chromium profile: <dataDir>/session/session-<clientId>", () => {
    expect(profileDir({ dataDir: "/var/lib/baladiya/wweb", clientId: "zahle" })).toBe("/var/lib/baladiya/wweb/session/session-zahle");
  });

  it("resolves a relative dataDir against the working directory", () => {
    expect(profileDir({ dataDir: "data/wweb", clientId: "zahle" })).toBe(path.join(process.cwd(), "data/wweb/session/session-zahle"));
  });
});

/** The modules `file` imports statically (not `import type`, not `import()`), as files of src/ or package names. */
function staticImportsOf(file: string): string[] {
  const code = readFileSync(file, "utf8");
  const specifiers = [
    ...code.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+["']([^"']+)["']/gm),
    ...code.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
  ].map((match) => match[1] ?? "");
  return specifiers.map((specifier) => {
    if (!specifier.startsWith(".")) return specifier;
    const resolved = path.resolve(path.dirname(file), specifier);
    const ts = resolved.replace(/\.js$/, ".ts");
    return existsSync(ts) ? ts : existsSync(`${resolved}.ts`) ? `${resolved}.ts` : path.join(resolved, "index.ts");
  });
}

/** Every module the process loads at start-up from `entry`, following static imports only. */
function staticGraphOf(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (module: string) => {
    if (seen.has(module)) return;
    seen.add(module);
    if (module.endsWith(".ts")) for (const next of staticImportsOf(module)) visit(next);
  };
  visit(entry);
  return seen;
}

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith(".ts") ? [full] : [];
  });

describe("with WhatsApp Web off, whatsapp-web.js (puppeteer, ~35 MB) is never loaded", () => {
  it("src/ names the package in one place only: a dynamic import() in library.ts", () => {
    const mentions = sourceFiles(src).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/^.*["']whatsapp-web\.js["'].*$/gm)].map((line) => `${path.relative(root, file)}: ${line[0].trim()}`),
    );
    expect(mentions).toEqual(['src/channels/whatsappWeb/library.ts: const { default: library } = await import("whatsapp-web.js");']);
  });

  it("nothing main.ts loads at start-up imports library.ts or the package statically", () => {
    const graph = staticGraphOf(path.join(src, "main.ts"));
    // The walk does follow the app: the routes and the HTTP app are part of it.
    expect(graph).toContain(path.join(src, "channels/configureRoutes.ts"));
    expect(graph).toContain(path.join(src, "http/createApp.ts"));
    expect(graph).not.toContain("whatsapp-web.js");
    expect(graph).not.toContain(path.join(src, "channels/whatsappWeb/library.ts"));
    expect(graph).not.toContain(path.join(src, "channels/whatsappWeb/whatsappWebChannel.ts"));
  });

  it("configureRoutes.ts loads the channel, the library wrapper and the lock helper only with import(), behind WHATSAPP_WEB_ENABLED", () => {
    const code = readFileSync(path.join(src, "channels/configureRoutes.ts"), "utf8");
    for (const module of ["whatsappWebChannel", "library", "profileLock"]) expect(code).toContain(`import("./whatsappWeb/${module}.js")`);
    expect(code).toMatch(/if \(wweb\.enabled\) \{\s*const \[[^\]]*\] = await Promise\.all\(\[\s*import\("\.\/whatsappWeb\/whatsappWebChannel\.js"\)/);
  });

  it("importing library.ts and the modules around it, in a fresh process, leaves the package unloaded until a client is created", async () => {
    // A child process: vitest's own module cache would not tell. The package is CommonJS, so once
    // loaded it sits in require.cache even when import() loaded it; the control import shows that.
    const script = `
      import { createRequire } from "node:module";
      const cache = createRequire(process.cwd() + "/").cache;
      const loaded = () => Object.keys(cache).some((k) => k.includes("/node_modules/whatsapp-web.js/"));
      await import("./src/channels/whatsappWeb/library.ts");
      await import("./src/channels/whatsappWeb/profileLock.ts");
      await import("./src/channels/whatsappWeb/whatsappWebChannel.ts");
      await import("./src/channels/configureRoutes.ts");
      await import("./src/http/createApp.ts");
      const afterOurModules = loaded();
      await import("whatsapp-web.js");
      console.log(JSON.stringify({ afterOurModules, afterThePackage: loaded() }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? root, LOG_LEVEL: "silent" },
    });
    expect(JSON.parse(stdout.trim().split("\n").at(-1) ?? "")).toEqual({ afterOurModules: false, afterThePackage: true });
  });
});

describe("rejections the library leaves behind", () => {
  it("are recognised by where they come from, and nothing else is", () => {
    const fromPage = new Error("Protocol error (Runtime.callFunctionOn): Target closed");
    fromPage.stack = `Error: Target closed\n    at CdpCDPSession.send (/srv/baladiya/node_modules/puppeteer-core/lib/cjs/puppeteer/cdp/CdpSession.js:101:19)\n    at Client.inject (/srv/baladiya/node_modules/whatsapp-web.js/src/Client.js:120:9)`;
    const ours = new Error("database locked");
    ours.stack = "Error: database locked\n    at handleInbound (/srv/baladiya/dist/inbox/handleInbound.js:10:5)";
    expect(isLibraryRejection(fromPage)).toBe(true);
    expect(isLibraryRejection(ours)).toBe(false);
    expect(isLibraryRejection("a string")).toBe(false);
  });
});
