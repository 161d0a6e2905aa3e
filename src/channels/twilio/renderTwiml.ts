import twilio from "twilio";

/** A TwiML `<Response>` with one `<Message>` per reply (none: Twilio sends nothing). */
export function renderTwiml(replies: readonly string[]): string {
  const response = new twilio.twiml.MessagingResponse();
  for (const text of replies) response.message(text);
  return response.toString();
}
