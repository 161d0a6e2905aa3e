import type { DeliveryReport } from "../sender.js";

/** What a delivery receipt says about one submitted part. */
export interface Receipt {
  /** The SMSC's id of the part, as the receipt gives it. */
  messageId: string;
  status: DeliveryReport["status"];
  /** The SMSC's own word for the state ("DELIVRD", "UNDELIV", or the message_state name). */
  state: string;
  /** The receipt's error (text `err:`, or the network_error_code TLV), when it is not zero. */
  errorCode?: string;
}

// Receipt text states (SMPP 3.4 appendix B) and message_state values (5.2.28), in the outbox's words.
const TEXT_STATES: Record<string, DeliveryReport["status"]> = {
  DELIVRD: "delivered",
  ACCEPTD: "sent",
  ENROUTE: "sent",
  UNDELIV: "undelivered",
  EXPIRED: "failed",
  DELETED: "failed",
  REJECTD: "failed",
  UNKNOWN: "failed",
};
const MESSAGE_STATES: ReadonlyArray<[string, DeliveryReport["status"]]> = [
  ["SCHEDULED", "sent"],
  ["ENROUTE", "sent"],
  ["DELIVERED", "delivered"],
  ["EXPIRED", "failed"],
  ["DELETED", "failed"],
  ["UNDELIVERABLE", "undelivered"],
  ["ACCEPTED", "sent"],
  ["UNKNOWN", "failed"],
  ["REJECTED", "failed"],
  ["SKIPPED", "failed"],
];

/**
 * Reads a delivery receipt (a deliver_sm with esm_class 0x04): the `receipted_message_id` and
 * `message_state` TLVs when present, otherwise the receipt text
 * "id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:…".
 * Null when it names no message or no state this channel knows.
 */
export function parseReceipt(input: { receiptedMessageId?: string | undefined; messageState?: number | undefined; networkErrorCode?: Buffer | undefined; text: string }): Receipt | null {
  const fields = textFields(input.text);
  const messageId = printable(input.receiptedMessageId) || printable(fields.get("id"));
  if (!messageId) return null;
  const known = input.messageState !== undefined ? MESSAGE_STATES[input.messageState] : undefined;
  const stat = fields.get("stat")?.toUpperCase();
  const [state, status] = known ?? (stat && TEXT_STATES[stat] ? [stat, TEXT_STATES[stat]] : [undefined, undefined]);
  if (!state || !status) return null;
  const errorCode = nonZero(fields.get("err")) ?? networkError(input.networkErrorCode);
  return { messageId, status, state, ...(errorCode ? { errorCode } : {}) };
}

// "submit date" and "done date" have a space in their names; "text:" runs to the end.
const FIELD = /(id|sub|dlvrd|submit date|done date|stat|err|text):(\S*)/gi;

function textFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const match of text.matchAll(FIELD)) {
    const name = (match[1] ?? "").toLowerCase();
    if (!fields.has(name)) fields.set(name, match[2] ?? "");
    if (name === "text") break;
  }
  return fields;
}

/**
 * The id up to its first non-printable character: a TLV some SMSCs send without its terminating NUL
 * is read on into the next TLV's bytes.
 */
function printable(id: string | undefined): string {
  return (id ?? "").replace(/[^\x21-\x7e][\s\S]*$/, "");
}

const nonZero = (code: string | undefined) => (code && !/^0+$/.test(code) ? code : undefined);

/** network_error_code: one octet network type (1 ANSI-136, 2 IS-95, 3 GSM, …) and two octets of error code. */
function networkError(value: Buffer | undefined): string | undefined {
  if (!value || value.length < 3) return undefined;
  const code = value.readUInt16BE(1);
  return code === 0 ? undefined : `${value[0]}:${code}`;
}
