import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import i18next, { type i18n, type Resource } from "i18next";
import { LOCALES } from "../conversation/types.js";
import { REPO_ROOT } from "../lib/paths.js";

/** Where the translation files live: locales/{ar,en}/{namespace}.json at the repository root. */
export const LOCALES_DIR = path.join(REPO_ROOT, "locales");

/** Reads every namespace of every locale from disk. */
export function loadResources(dir = LOCALES_DIR): Resource {
  return Object.fromEntries(
    LOCALES.map((locale) => {
      const folder = path.join(dir, locale);
      const namespaces = readdirSync(folder).filter((f) => f.endsWith(".json"));
      return [locale, Object.fromEntries(namespaces.map((f) => [path.basename(f, ".json"), JSON.parse(readFileSync(path.join(folder, f), "utf8")) as Record<string, string>]))];
    }),
  );
}

/**
 * A ready i18next instance with all locales loaded synchronously (no backend round trips at run
 * time). Missing keys fail loudly in tests through `render`, never silently show a key to a resident.
 */
export function createI18n(resources = loadResources()): i18n {
  const instance = i18next.createInstance();
  void instance.init({
    resources,
    initAsync: false,
    lng: "ar",
    fallbackLng: false,
    supportedLngs: [...LOCALES],
    ns: Object.keys(resources.en ?? {}),
    defaultNS: "bot",
    // Resident text goes to SMS and WhatsApp, not HTML: escaping is the job of whatever shows it.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return instance;
}
