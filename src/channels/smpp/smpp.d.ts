// Types for the parts of the `smpp` package (0.5.x, CommonJS, ships no types) that this channel and
// its tests use. Import it through ./smppLibrary.ts, which makes it hand over message bytes as they are.
declare module "smpp" {
  import type { EventEmitter } from "node:events";
  import type { Server as NetServer, Socket } from "node:net";

  namespace smpp {
    /**
     * One PDU. Its mandatory fields and TLVs are plain properties named as in the SMPP 3.4
     * specification (`source_addr`, `short_message`, `message_state`, …), typed unknown here:
     * read them with the guards in smppChannel.ts.
     */
    class PDU {
      constructor(command: string, fields?: Record<string, unknown>);
      command: string;
      command_id: number;
      command_status: number;
      sequence_number: number;
      isResponse(): boolean;
      /** The response to this request (generic_nack for an unknown command), same sequence number. */
      response(fields?: Record<string, unknown>): PDU;
      toBuffer(): Buffer;
      [field: string]: unknown;
    }

    /** One TCP (or TLS) connection speaking SMPP; emits "pdu" for every PDU read, then its command name. */
    class Session extends EventEmitter {
      socket: Socket;
      /** Writes a PDU, numbering a request that has no sequence number yet; false when the socket is not writable. */
      send(pdu: PDU): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
      on(event: "pdu", listener: (pdu: PDU) => void): this;
      on(event: "connect" | "close", listener: () => void): this;
      on(event: "error", listener: (error: Error) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }

    interface Server extends NetServer {
      sessions: Session[];
    }

    interface Filter {
      encode(this: PDU, value: unknown): unknown;
      decode(this: PDU, value: unknown, skipUdh?: boolean): unknown;
    }

    /** `url`: smpp://host:port or ssmpp://host:port (TLS). */
    function connect(options: { url: string }): Session;
    function createServer(listener: (session: Session) => void): Server;

    const commands: Record<string, { id: number; params?: Record<string, { filter?: Filter }> }>;
    const tlvs: Record<string, { id: number; filter?: Filter }>;
    /** Command status names (ESME_ROK, ESME_RTHROTTLED, …) and their values. */
    const errors: Record<string, number>;
  }

  export = smpp;
}
