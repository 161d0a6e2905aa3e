import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { smpp, STATUS } from "../../../src/channels/smpp/smppLibrary.js";

/**
 * What the fake SMSC answers to a submit_sm: a status (and id), no answer at all, or a dropped
 * connection. `then`: a deliver_sm (a delivery receipt) written in the same write as the response,
 * so that the channel reads both at once.
 */
export type SubmitReply = { status?: number; messageId?: string; delayMs?: number; then?: Record<string, unknown> } | "silence" | "hang-up";

export interface Bind {
  systemId: unknown;
  password: unknown;
  systemType: unknown;
  interfaceVersion: unknown;
  accepted: boolean;
}

/** A PDU the SMSC read, with the connection it came on (1 for the first, …). */
export interface Seen {
  connection: number;
  pdu: smpp.PDU;
}

/**
 * An SMSC in the test process (the `smpp` package's server on 127.0.0.1, port 0): accepts one
 * system id and password, answers enquire_link, and answers each submit_sm as `onSubmit` says.
 * Records every PDU it reads.
 */
export class FakeSmsc {
  readonly server: smpp.Server;
  readonly seen: Seen[] = [];
  readonly binds: Bind[] = [];
  password = "secret";
  answerEnquireLink = true;
  onSubmit: (pdu: smpp.PDU, n: number) => SubmitReply = (_pdu, n) => ({ messageId: (0x1a2b00 + n).toString(16) });
  #connections = 0;
  #submits = 0;
  #sequence = 0x10000;
  #bound: Array<{ connection: number; session: smpp.Session }> = [];
  // Our requests (deliver_sm, enquire_link, …) waiting for the channel's response, by sequence number.
  readonly #waiting = new Map<number, (pdu: smpp.PDU) => void>();

  private constructor() {
    this.server = smpp.createServer((session) => this.#accept(session));
  }

  static async start(port = 0): Promise<FakeSmsc> {
    const smsc = new FakeSmsc();
    smsc.server.listen(port, "127.0.0.1");
    await once(smsc.server, "listening");
    return smsc;
  }

  get url(): string {
    return `smpp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The latest bound connection. */
  get session(): smpp.Session {
    const last = this.#bound.at(-1);
    if (!last) throw new Error("no bound session");
    return last.session;
  }

  get connections(): number {
    return this.#connections;
  }

  /** PDUs of one command the SMSC read. */
  received(command: string): smpp.PDU[] {
    return this.seen.filter((s) => s.pdu.command === command).map((s) => s.pdu);
  }

  /** Sends a request on the latest bound connection; resolves with the channel's response. */
  request(command: string, fields: Record<string, unknown> = {}, session = this.session): Promise<smpp.PDU> {
    const pdu = new smpp.PDU(command, fields);
    const response = new Promise<smpp.PDU>((resolve) => {
      session.send(pdu);
      this.#waiting.set(pdu.sequence_number, resolve);
    });
    return response;
  }

  deliver(fields: Record<string, unknown>, session = this.session): Promise<smpp.PDU> {
    return this.request("deliver_sm", fields, session);
  }

  /** Writes raw bytes on the latest bound connection (a PDU the library cannot build); resolves with the response to `sequence`. */
  writeRaw(bytes: Buffer, sequence: number): Promise<smpp.PDU> {
    return new Promise((resolve) => {
      this.#waiting.set(sequence, resolve);
      this.session.socket.write(bytes);
    });
  }

  /** Drops every connection at once, as a failing network would. */
  dropAll(): void {
    for (const { session } of this.#bound) session.destroy();
    this.#bound = [];
  }

  async close(): Promise<void> {
    for (const session of this.server.sessions) session.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #accept(session: smpp.Session): void {
    const connection = ++this.#connections;
    session.socket.setNoDelay(true);
    session.on("error", () => {});
    session.on("close", () => (this.#bound = this.#bound.filter((b) => b.session !== session)));
    session.on("pdu", (pdu) => {
      this.seen.push({ connection, pdu });
      if (pdu.isResponse()) {
        const resolve = this.#waiting.get(pdu.sequence_number);
        this.#waiting.delete(pdu.sequence_number);
        resolve?.(pdu);
        return;
      }
      switch (pdu.command) {
        case "bind_transceiver": {
          const accepted = pdu.password === this.password;
          this.binds.push({ systemId: pdu.system_id, password: pdu.password, systemType: pdu.system_type, interfaceVersion: pdu.interface_version, accepted });
          session.send(pdu.response(accepted ? { system_id: "fake-smsc" } : { command_status: 0x0e }));
          if (accepted) this.#bound.push({ connection, session });
          return;
        }
        case "enquire_link":
          if (this.answerEnquireLink) session.send(pdu.response());
          return;
        case "unbind":
          session.send(pdu.response());
          session.close();
          return;
        case "submit_sm": {
          const reply = this.onSubmit(pdu, ++this.#submits);
          if (reply === "silence") return;
          if (reply === "hang-up") {
            session.destroy();
            return;
          }
          const response = pdu.response(reply.status ? { command_status: reply.status } : { message_id: reply.messageId ?? (0x1a2b00 + this.#submits).toString(16) });
          const then = reply.then;
          const respond = () => {
            if (!then) return void session.send(response);
            const next = new smpp.PDU("deliver_sm", { ...then, sequence_number: ++this.#sequence });
            session.socket.write(Buffer.concat([response.toBuffer(), next.toBuffer()]));
          };
          if (reply.delayMs) setTimeout(respond, reply.delayMs);
          else respond();
          return;
        }
        default:
          session.send(pdu.response({ command_status: STATUS.RINVCMDID }));
      }
    });
  }
}

/** Resolves once `check` holds (polled every few milliseconds), or rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 2000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/** A promise with its resolve and reject, to hold a handler until the test lets it go. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** GSM 03.38 septets of plain ASCII letters, digits and spaces (the same codes), for building deliver_sm. */
export const septets = (text: string) => Buffer.from(text, "latin1");

/** UCS-2 big-endian. */
export const ucs2 = (text: string) => Buffer.from(text, "utf16le").swap16();
