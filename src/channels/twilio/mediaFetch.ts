/** Twilio's REST API, where the media of residents' messages live. */
const TWILIO_API = "https://api.twilio.com";

/**
 * Fetches a resident's photo for the staff pages with the account's credentials, but only from
 * Twilio's API (or `apiUrl`, a configured fake or mock): a media URL that came from anywhere else
 * (a bug, or a future channel storing its own links) must never receive the credentials. It is
 * refused before any request is made. Twilio answers with a redirect to its media store; the
 * credentials are not sent there (fetch drops Authorization on a redirect to another origin).
 */
export function twilioMediaFetcher(
  credentials: { accountSid: string; authToken: string; apiUrl?: string | undefined },
  fetchImpl: typeof fetch = fetch,
): (url: string) => Promise<Response> {
  const allowed = new Set([TWILIO_API, ...(credentials.apiUrl ? [new URL(credentials.apiUrl).origin] : [])]);
  const authorization = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString("base64")}`;
  return async (url) => {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      throw new Error("not a media URL");
    }
    if (!allowed.has(origin)) throw new Error(`media URL outside Twilio's API (${origin}): not fetched with the account's credentials`);
    return fetchImpl(url, { headers: { Authorization: authorization } });
  };
}
