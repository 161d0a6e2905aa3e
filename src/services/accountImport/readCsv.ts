import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * One record of a CSV file. `line` is the physical line where the record starts (the header is
 * line 1), so a quoted field with line breaks does not shift the numbers of the records after it.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
  /** The record could not be read as CSV; its fields are what could be salvaged. */
  error?: "unterminatedQuote" | "badQuote" | "encoding";
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Streams the records of a UTF-8 CSV file (RFC 4180: comma-separated, fields optionally quoted with
 * `""` for a quote inside, commas and line breaks allowed inside quotes, CRLF or LF). A BOM is
 * dropped, blank lines are skipped. Memory stays bounded by the longest record, whatever the file's
 * size. Every byte read also goes into `hash` when given, so the file is read once to be checked and
 * fingerprinted. Bytes that are not UTF-8 end the file with an `encoding` record.
 */
export async function* readCsv(file: string, hash?: Hash): AsyncGenerator<CsvRecord> {
  // fatal: a file exported as Windows-1256 must be refused, not imported as mojibake names.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const parser = new CsvParser();
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const bytes = chunk instanceof Buffer ? chunk : Buffer.from(String(chunk));
    hash?.update(bytes);
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: true });
    } catch {
      yield* untilBadBytes(parser, bytes);
      return;
    }
    yield* parser.push(text);
  }
  try {
    yield* parser.push(decoder.decode());
  } catch {
    yield { line: parser.currentLine(), fields: [], error: "encoding" };
    return;
  }
  const last = parser.end();
  if (last) yield last;
}

/** The records before the first byte that is not UTF-8, then an `encoding` record on its line. */
function* untilBadBytes(parser: CsvParser, bytes: Buffer): Generator<CsvRecord> {
  const lenient = new TextDecoder("utf-8").decode(bytes);
  const bad = lenient.indexOf("\uFFFD");
  // The records before it are still checked: their errors come first, as they would in a good file.
  for (const record of parser.push(lenient.slice(0, Math.max(0, bad)))) yield record;
  yield { line: parser.currentLine(), fields: [], error: "encoding" };
}

/** The SHA-256 of a file, hex, read as a stream. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk instanceof Buffer ? chunk : Buffer.from(String(chunk)));
  return hash.digest("hex");
}

/** An incremental RFC 4180 parser: text goes in chunk by chunk, complete records come out. */
export class CsvParser {
  private fields: string[] = [];
  private field = "";
  /** Inside a quoted field. */
  private quoted = false;
  /** A quote was seen inside a quoted field: either the closing quote or the first of `""`. */
  private quoteInQuoted = false;
  /** The current field was quoted and is closed: only a comma or a line break may follow. */
  private closed = false;
  /** Something (a character or a comma) belongs to the current record. */
  private started = false;
  /** The previous character was a CR ending a record: a LF right after it is the same break. */
  private skipLf = false;
  private line = 1;
  private recordLine = 1;
  private error: CsvRecord["error"];

  /** The physical line the parser has reached. */
  currentLine(): number {
    return this.line;
  }

  /** Feeds the next piece of text; returns the records it completed. */
  push(text: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.skipLf) {
        this.skipLf = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      if (this.quoted) {
        if (this.quoteInQuoted) {
          this.quoteInQuoted = false;
          if (c === QUOTE) {
            this.field += '"';
            i++;
            continue;
          }
          this.quoted = false;
          this.closed = true;
          continue; // the character after the closing quote is read as unquoted text
        }
        // Copy a run of ordinary characters at once.
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === QUOTE || d === LF || d === CR) break;
          j++;
        }
        if (j > i) {
          this.field += text.slice(i, j);
          i = j;
          continue;
        }
        if (c === QUOTE) this.quoteInQuoted = true;
        else if (c === LF) {
          this.field += "\n";
          this.line++;
        } else {
          // CR or CRLF inside quotes: one line break, kept as "\n".
          this.field += "\n";
          this.line++;
          this.skipLf = true;
        }
        i++;
        continue;
      }
      if (c === COMMA) {
        this.fields.push(this.field);
        this.field = "";
        this.closed = false;
        this.started = true;
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        const record = this.finishRecord();
        if (record) out.push(record);
        this.line++;
        this.recordLine = this.line;
        if (c === CR) this.skipLf = true;
        i++;
        continue;
      }
      if (c === QUOTE && this.field === "" && !this.closed) {
        this.quoted = true;
        this.started = true;
        i++;
        continue;
      }
      // Text after a closing quote (`"a"b`) or a quote inside an unquoted field (`a"b`): kept as
      // is, but the record is refused, since the export is not what we think it is.
      if (c === QUOTE || this.closed) this.error ??= "badQuote";
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === COMMA || d === LF || d === CR || d === QUOTE) break;
        j++;
      }
      this.field += text.slice(i, j);
      this.started = true;
      i = j;
    }
    return out;
  }

  /** The end of the text: the last record when the file does not end with a line break. */
  end(): CsvRecord | null {
    if (this.quoted && !this.quoteInQuoted) {
      this.error = "unterminatedQuote";
      this.quoted = false;
    }
    this.quoted = false;
    this.quoteInQuoted = false;
    return this.finishRecord();
  }

  private finishRecord(): CsvRecord | null {
    if (!this.started && this.field === "" && !this.error) return null; // a blank line
    this.fields.push(this.field);
    const record: CsvRecord = { line: this.recordLine, fields: this.fields, ...(this.error ? { error: this.error } : {}) };
    this.fields = [];
    this.field = "";
    this.closed = false;
    this.started = false;
    this.error = undefined;
    return record;
  }
}
