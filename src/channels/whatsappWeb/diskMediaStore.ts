import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { baseType, KEPT_MEDIA, localMediaKey, localMediaUrl, type MediaStore } from "./mediaStore.js";

/**
 * Media kept as files in `dir`, named `<sha256>.<ext>`: the same file sent twice is stored once, and
 * a name cannot be guessed from a ticket. The extension carries the type, so there is nothing beside
 * the file to lose or keep in step: `get` answers the base type ("audio/ogg; codecs=opus" comes back
 * as "audio/ogg" — the message row keeps the type as WhatsApp gave it), and a type without an
 * extension of its own is stored as ".bin" and read back as application/octet-stream. Residents'
 * files are personal data: the folder is created on first use readable by this user only (0700),
 * files 0600. A file is written beside its final name and renamed into place, so a reader never
 * sees half of one.
 */
export function diskMediaStore(dir: string): MediaStore {
  return {
    async put(bytes, contentType) {
      const key = `${createHash("sha256").update(bytes).digest("hex")}.${extensionOf(contentType)}`;
      // Every time, not once: a folder removed while we run (a clean-up) comes back.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, key);
      if (await exists(file)) return key;
      const temp = path.join(dir, `.${key}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        await writeFile(temp, bytes, { mode: 0o600, flag: "wx" });
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return key;
    },

    async get(key) {
      // The key comes from a stored URL: only a well-formed one names a file (no "../", no other folder).
      if (localMediaKey(localMediaUrl(key)) !== key) return null;
      let bytes: Buffer;
      try {
        bytes = await readFile(path.join(dir, key));
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      return { bytes, contentType: contentTypeOf(key) };
    },
  };
}

/** Extension ↔ base type of what the channel keeps (KEPT_MEDIA); each extension reads back as exactly one type. */
const FALLBACK = { ext: "bin", contentType: "application/octet-stream" };

const EXT_OF_TYPE = new Map(KEPT_MEDIA.flatMap(({ ext, type, aliases = [] }) => [type, ...aliases].map((t) => [t, ext] as const)));
const TYPE_OF_EXT = new Map(KEPT_MEDIA.map(({ ext, type }) => [ext, type] as const));

function extensionOf(contentType: string): string {
  return EXT_OF_TYPE.get(baseType(contentType)) ?? FALLBACK.ext;
}

function contentTypeOf(key: string): string {
  return TYPE_OF_EXT.get(key.slice(key.lastIndexOf(".") + 1)) ?? FALLBACK.contentType;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}
