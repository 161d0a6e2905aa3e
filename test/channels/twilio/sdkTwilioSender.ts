/**
 * The oracle for twilioSender's HTTP client (twilioHttp): the same TwilioTransport contract, served by
 * Twilio's SDK client configured as the sender on the SDK was (src/channels/twilio/twilioSender.ts
 * before it moved to node:http). twilioSender.test.ts runs twilioSender on both transports against
 * the same scripted server: what goes over the wire and what the sender concludes must be the same.
 */
import http from "node:http";
import https from "node:https";
import twilio from "twilio";
import { TWILIO_API_URL, type TwilioSenderOptions, type TwilioTransport } from "../../../src/channels/twilio/twilioSender.js";

/**
 * Twilio's HTTP client, sending every request to `apiUrl` instead of https://*.twilio.com (same
 * path, same auth, same timeout and keep-alive). Only the base changes: pagination links Twilio
 * returns go through here too.
 */
class RebasedRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(apiUrl: string, options: { keepAlive: boolean; timeout: number }) {
    super(options);
    this.base = new URL(apiUrl);
    // The SDK only configures an https agent; a plain-http fake needs the same socket options.
    if (this.base.protocol === "http:") this.axios.defaults.httpAgent = new http.Agent({ keepAlive: options.keepAlive, timeout: options.timeout });
    else this.axios.defaults.httpsAgent ??= new https.Agent({ keepAlive: options.keepAlive, timeout: options.timeout });
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const uri = new URL(opts.uri);
    const prefix = this.base.pathname.replace(/\/+$/, "");
    const rebased = new URL(`${prefix}${uri.pathname}${uri.search}`, this.base.origin);
    return super.request<TData>({ ...opts, uri: rebased.href });
  }
}

type RequestOptions<TData> = Parameters<InstanceType<typeof twilio.RequestClient>["request"]>[0] & { data?: TData };

/**
 * A TwilioTransport on the SDK's client, as the SDK-based sender used it: every request through
 * `client.request` (auth, User-Agent, Accept-Charset, the agent, the timeout), a send with the headers
 * `client.messages.create` gave it and its form written by qs; a list's query stays in its URI
 * (the old sender passed the first page's as `params`: the same fields, the same values).
 *
 * What the old sender saw, mapped to the contract:
 * - Any answer resolves (the SDK's client accepts every status from 100 to 599 and follows no
 *   redirect); its body, which axios had parsed as JSON when it could, goes back to text.
 * - Without an answer, the SDK's (axios's) error is passed on as it came: its `code` and `message`
 *   (ECONNREFUSED, ECONNABORTED "timeout of …ms exceeded", …) are the ones the old sender
 *   classified, and a response cut short keeps the `status` axios gave it.
 */
export function sdkTransport(options: Pick<TwilioSenderOptions, "accountSid" | "authToken" | "apiUrl" | "keepAlive" | "timeoutMs">): TwilioTransport {
  const keepAlive = options.keepAlive ?? true;
  const timeout = options.timeoutMs ?? 15_000;
  const apiUrl = options.apiUrl ?? TWILIO_API_URL;
  const client = twilio(options.accountSid, options.authToken, {
    keepAlive,
    timeout,
    ...(new URL(apiUrl).origin === TWILIO_API_URL ? {} : { httpClient: new RebasedRequestClient(apiUrl, { keepAlive, timeout }) }),
  });

  return async (method, uri, form) => {
    const response = await client.request({
      method: method === "POST" ? "post" : "get",
      // Absolute, as the SDK's domain made the create's path and the old sender made a next page link.
      uri: new URL(uri, TWILIO_API_URL).href,
      // The headers messages.create sent; the list asked with none of its own.
      ...(form ? { data: formData(form), headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" } } : {}),
    });
    return { statusCode: response.statusCode, text: typeof response.body === "string" ? response.body : (JSON.stringify(response.body) ?? "") };
  };
}

/** The form as messages.create handed it to the client: an object in field order (repeated fields as arrays, as qs writes them). */
function formData(form: URLSearchParams): Record<string, string | string[]> {
  const data: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key);
    data[key] = values.length === 1 ? values[0]! : values;
  }
  return data;
}
