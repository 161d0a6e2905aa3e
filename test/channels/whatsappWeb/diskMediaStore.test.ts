import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diskMediaStore } from "../../../src/channels/whatsappWeb/diskMediaStore.js";
import { localMediaKey, localMediaUrl } from "../../../src/channels/whatsappWeb/mediaStore.js";
import { PNG_1x1 } from "./fakeClient.js";

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "baladiya-media-"));
  dir = path.join(root, "data", "media");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const PNG = Buffer.from(PNG_1x1, "base64");
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("the disk media store", () => {
  it("keeps a resident's photo under its hash, in a folder it creates for this user only", async () => {
    const store = diskMediaStore(dir);
    const key = await store.put(PNG, "image/png");
    expect(key).toBe(`${sha256(PNG)}.png`);
    expect(localMediaKey(localMediaUrl(key))).toBe(key);
    expect(await store.get(key)).toEqual({ bytes: PNG, contentType: "image/png" });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, key))).mode & 0o777).toBe(0o600);
  });

  it.each([
    ["image/jpeg", "jpg"],
    ["image/png", "png"],
    ["image/webp", "webp"],
    ["image/gif", "gif"],
    ["image/heic", "heic"],
    ["application/pdf", "pdf"],
    ["application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"],
    ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"],
    ["audio/ogg", "ogg"],
    ["audio/mpeg", "mp3"],
    ["audio/mp4", "m4a"],
    ["audio/aac", "aac"],
    ["audio/amr", "amr"],
    ["video/mp4", "mp4"],
    ["video/3gpp", "3gp"],
  ])("gives back a %s file with its type (.%s)", async (contentType, ext) => {
    const store = diskMediaStore(dir);
    const bytes = Buffer.from(`a ${contentType} file`);
    const key = await store.put(bytes, contentType);
    expect(key).toBe(`${sha256(bytes)}.${ext}`);
    expect(await store.get(key)).toEqual({ bytes, contentType });
  });

  it("reads a voice note back as its base type (the message row keeps the codec)", async () => {
    const store = diskMediaStore(dir);
    const key = await store.put(Buffer.from("OggS"), "audio/ogg; codecs=opus");
    expect(key.endsWith(".ogg")).toBe(true);
    expect((await store.get(key))?.contentType).toBe("audio/ogg");
  });

  it("keeps a type it has no extension for as .bin, read back as bytes of no particular type", async () => {
    const store = diskMediaStore(dir);
    const key = await store.put(Buffer.from("<html>"), "text/html");
    expect(key.endsWith(".bin")).toBe(true);
    expect((await store.get(key))?.contentType).toBe("application/octet-stream");
  });

  it("stores the same photo sent twice once, and leaves no temporary files", async () => {
    const store = diskMediaStore(dir);
    const [a, b] = await Promise.all([store.put(PNG, "image/png"), store.put(PNG, "image/png")]);
    expect(a).toBe(b);
    expect(await store.put(PNG, "image/png")).toBe(a);
    expect(await readdir(dir)).toEqual([a]);
  });

  it("answers null for a file it does not have", async () => {
    const store = diskMediaStore(dir);
    expect(await store.get(`${"0".repeat(64)}.png`)).toBeNull();
  });

  it.each([
    "../../etc/passwd",
    `../${"a".repeat(64)}.png`,
    `${"a".repeat(64)}.png/../x`,
    `${"A".repeat(64)}.png`,
    `${"a".repeat(63)}.png`,
    "secret.png",
    "",
  ])("reads nothing outside its folder or not named by a hash: %j", async (key) => {
    // A file the name would reach if it were trusted.
    await writeFile(path.join(root, "secret.png"), "secret");
    const store = diskMediaStore(path.join(root));
    expect(await store.get(key)).toBeNull();
  });

  it("comes back when its folder was removed while running", async () => {
    const store = diskMediaStore(dir);
    await store.put(PNG, "image/png");
    await rm(dir, { recursive: true });
    const key = await store.put(PNG, "image/png");
    expect(await store.get(key)).toEqual({ bytes: PNG, contentType: "image/png" });
  });
});
