import type { Request, Response } from "express";
import { HttpError } from "../../lib/httpError.js";

/**
 * multipart/form-data uploads for the staff pages (the account and survey consent imports), read
 * into memory without a dependency. The pages that take uploads add their routes before the staff
 * router's url-encoded CSRF check, and check CSRF on the fields read here.
 */

export interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** An upload's text fields (`_csrf`…) and its file parts. */
export interface MultipartBody {
  /** The last value of each text field. */
  fields: Record<string, string>;
  /** Every text field in order, repeats kept (`media_url` twice). */
  fieldList: Array<[name: string, value: string]>;
  files: Part[];
}

/**
 * Reads a multipart/form-data body of at most `maxBytes`. Null when it is larger (declared or
 * sent): the rest is discarded and the connection closes after the answer. Not multipart, or
 * malformed: a 400.
 */
export async function readMultipartBody(req: Request, res: Response, maxBytes: number): Promise<MultipartBody | null> {
  const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^\s;]+))/i.exec(req.get("content-type") ?? "");
  const boundaryText = boundary?.[1] ?? boundary?.[2];
  if (!boundaryText) throw new HttpError(400, "Expected multipart/form-data");
  if (Number(req.get("content-length") ?? 0) > maxBytes) {
    req.resume();
    res.set("Connection", "close");
    return null;
  }
  let body: Buffer;
  try {
    body = await readLimited(req, res, maxBytes);
  } catch (error) {
    if (error instanceof HttpError && error.status === 413) return null;
    throw error;
  }
  const parts = parseMultipart(body, boundaryText);
  if (!parts) throw new HttpError(400, "Malformed multipart body");
  const fields: Record<string, string> = {};
  const fieldList: Array<[string, string]> = [];
  const files: Part[] = [];
  for (const part of parts) {
    if (part.filename === undefined) {
      const value = part.data.toString("utf8");
      fields[part.name] = value;
      fieldList.push([part.name, value]);
    } else files.push(part);
  }
  return { fields, fieldList, files };
}

function readLimited(req: Request, res: Response, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume(); // discard the rest; the connection closes after the answer
        res.set("Connection", "close");
        reject(new HttpError(413, "Upload too large"));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/** The parts of a multipart/form-data body (RFC 7578); null when it is not well formed. */
export function parseMultipart(body: Buffer, boundary: string): Part[] | null {
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) return null;
  for (;;) {
    const after = at + delimiter.length;
    if (body.subarray(after, after + 2).toString("latin1") === "--") return parts;
    if (body.subarray(after, after + 2).toString("latin1") !== "\r\n") return null;
    const start = after + 2;
    const end = body.indexOf(next, start);
    if (end < 0) return null;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) return null;
    const headers = part.subarray(0, headerEnd).toString("utf8");
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1] ?? "";
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return null;
    const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), data: part.subarray(headerEnd + 4) });
    at = end + 2;
  }
}
