import { describe, expect, it } from "vitest";
import { parseReceipt } from "../../../src/channels/smpp/receipts.js";

const text = (stat: string, err = "000", id = "0A1B2C") => `id:${id} sub:001 dlvrd:001 submit date:2612011000 done date:2612011001 stat:${stat} err:${err} text:Your request`;

describe("parseReceipt", () => {
  it.each([
    ["DELIVRD", "delivered"],
    ["ACCEPTD", "sent"],
    ["ENROUTE", "sent"],
    ["UNDELIV", "undelivered"],
    ["EXPIRED", "failed"],
    ["DELETED", "failed"],
    ["REJECTD", "failed"],
    ["UNKNOWN", "failed"],
  ])("reads stat:%s in the receipt text as %s", (stat, status) => {
    expect(parseReceipt({ text: text(stat) })).toEqual({ messageId: "0A1B2C", status, state: stat });
  });

  it.each([
    [1, "ENROUTE", "sent"],
    [2, "DELIVERED", "delivered"],
    [3, "EXPIRED", "failed"],
    [5, "UNDELIVERABLE", "undelivered"],
    [6, "ACCEPTED", "sent"],
    [8, "REJECTED", "failed"],
  ])("prefers the TLVs: message_state %i (%s) is %s", (messageState, state, status) => {
    expect(parseReceipt({ receiptedMessageId: "tlv-id", messageState, text: text("DELIVRD", "000", "text-id") })).toEqual({ messageId: "tlv-id", status, state });
  });

  it("keeps a non-zero error code, from the text or the network_error_code TLV", () => {
    expect(parseReceipt({ text: text("UNDELIV", "034") })?.errorCode).toBe("034");
    expect(parseReceipt({ receiptedMessageId: "x", messageState: 5, networkErrorCode: Buffer.from([3, 0, 11]), text: "" })?.errorCode).toBe("3:11");
    expect(parseReceipt({ text: text("DELIVRD", "000") })).not.toHaveProperty("errorCode");
  });

  it("reads an id TLV that lost its terminating NUL only up to the first non-printable byte", () => {
    expect(parseReceipt({ receiptedMessageId: "abc\u0004'", messageState: 2, text: "" })?.messageId).toBe("abc");
  });

  it("falls back to the text when message_state is not a known state", () => {
    expect(parseReceipt({ receiptedMessageId: "x", messageState: 42, text: text("DELIVRD") })).toEqual({ messageId: "x", status: "delivered", state: "DELIVRD" });
  });

  it.each([
    ["no id", "sub:001 dlvrd:001 stat:DELIVRD err:000"],
    ["an unknown state", "id:1 sub:001 stat:WHATEVER err:000"],
    ["no receipt at all", "Hello"],
  ])("is null for %s", (_name, receipt) => {
    expect(parseReceipt({ text: receipt })).toBeNull();
  });

  it("does not read fields out of the message text", () => {
    expect(parseReceipt({ text: "id:42 sub:001 dlvrd:001 submit date:2612011000 done date:2612011001 stat:DELIVRD err:000 text:stat:UNDELIV err:099" })).toEqual({ messageId: "42", status: "delivered", state: "DELIVRD" });
  });
});
