import smpp from "smpp";

/**
 * The `smpp` package with message bodies left as bytes. By default it decodes `short_message` and
 * `message_payload` by `data_coding` into strings with its own tables, which loses what this channel
 * needs: it reads IA5 (1) with its GSM table, maps unknown bytes to spaces, decodes each part of a
 * concatenated message on its own (a surrogate pair or a GSM escape split across parts is lost),
 * and auto-encodes outbound strings. Here both fields pass through untouched in both directions:
 * encoding.ts encodes and decodes, and every outbound body is given as a Buffer.
 *
 * The package keeps its field definitions in module-level tables shared by every user in the
 * process; this channel (and its tests' in-process SMSC) are the only users.
 */
const RAW: smpp.Filter = {
  encode: (value) => value,
  decode: (value) => value,
};

for (const command of Object.values(smpp.commands)) {
  const shortMessage = command.params?.short_message;
  if (shortMessage) shortMessage.filter = RAW;
}
const messagePayload = smpp.tlvs.message_payload;
if (messagePayload) messagePayload.filter = RAW;

export { smpp };

/** Command status values used by this channel (SMPP 3.4, section 5.1.3). */
export const STATUS = {
  ROK: 0x00,
  RINVCMDID: 0x03,
  RINVBNDSTS: 0x04,
  RSYSERR: 0x08,
  RINVDSTADR: 0x0b,
  RMSGQFUL: 0x14,
  RSUBMITFAIL: 0x45,
  RTHROTTLED: 0x58,
  /** ESME_RX_T_APPN: "ESME receiver temporary app error", the SMSC delivers the message again later. */
  RX_T_APPN: 0x64,
} as const;

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(smpp.errors)) if (!NAMES.has(value)) NAMES.set(value, name);

/** "ESME_RTHROTTLED (0x58)": a command status as logs and stored errors show it. */
export function statusName(status: number): string {
  return `${NAMES.get(status) ?? "ESME_UNKNOWN"} (0x${status.toString(16).padStart(2, "0")})`;
}

/** The bare name of a command status ("ESME_RTHROTTLED"), or its hex value when it has none. */
export function statusCode(status: number): string {
  return NAMES.get(status) ?? `0x${status.toString(16).padStart(8, "0")}`;
}
