import { describe, expect, it } from "vitest";
import { twilioMediaFetcher } from "../../../src/channels/twilio/mediaFetch.js";

/** A fetch that records what it was asked and answers 200. */
function recordingFetch() {
  const calls: Array<{ url: string; authorization: string | null }> = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), authorization: new Headers(init?.headers).get("authorization") });
    return new Response("jpeg", { status: 200, headers: { "Content-Type": "image/jpeg" } });
  }) as typeof fetch;
  return { calls, impl };
}

const credentials = { accountSid: "AC00000000000000000000000000000000", authToken: "secret-token" };
const basic = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString("base64")}`;

describe("fetching a resident's photo from Twilio for the staff pages", () => {
  it("sends the account's credentials to Twilio's API", async () => {
    const { calls, impl } = recordingFetch();
    const res = await twilioMediaFetcher(credentials, impl)("https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1");
    expect(res.status).toBe(200);
    expect(calls).toEqual([{ url: "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1", authorization: basic }]);
  });

  it("and to the configured API of a local fake", async () => {
    const { calls, impl } = recordingFetch();
    await twilioMediaFetcher({ ...credentials, apiUrl: "http://127.0.0.1:4010" }, impl)("http://127.0.0.1:4010/Media/ME1");
    expect(calls).toHaveLength(1);
  });

  it.each([
    "https://evil.example.org/steal",
    "https://api.twilio.com.evil.example.org/x",
    "http://api.twilio.com/2010-04-01/x",
    "https://user@evil.example.org@api.twilio.com.evil/x",
    "not a url",
  ])("never sends them anywhere else: %s", async (url) => {
    const { calls, impl } = recordingFetch();
    await expect(twilioMediaFetcher(credentials, impl)(url)).rejects.toThrow();
    expect(calls).toHaveLength(0);
  });
});
