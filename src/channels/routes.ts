/**
 * The provider a message travels through. The engine only knows the channel (SMS or WhatsApp: what
 * a message can carry); the route is how it reaches the resident's phone, and a resident's replies
 * go out the way they last wrote.
 * - "twilio": Twilio's SMS and WhatsApp API; the bot's answer rides on the webhook's response (TwiML).
 * - "android": an Android phone with the municipality's SIM running "SMS Gateway for Android".
 * - "smpp": an SMPP 3.4 bind to an operator or aggregator (a short code).
 * - "whatsapp-web": the municipality's own WhatsApp number, linked by QR code and driven through
 *   whatsapp-web.js (an unofficial client; see docs/whatsapp-web.md). WhatsApp only.
 */
export const ROUTES = ["twilio", "android", "smpp", "whatsapp-web"] as const;
export type Route = (typeof ROUTES)[number];

/** The route of rows written before routes existed, and of the simulator (`npm run chat`). */
export const DEFAULT_ROUTE: Route = "twilio";

export const isRoute = (value: string): value is Route => (ROUTES as readonly string[]).includes(value);

/**
 * Whether the bot's answer goes back in the provider's HTTP response (Twilio's TwiML). Every other
 * route answers the provider at once and sends the answer through the outbox.
 */
export const repliesInline = (route: Route) => route === "twilio";

/**
 * What the admin page and /healthz say about a configured route. `state`: "ready" — it can send;
 * "connecting" / "disconnected" — an SMPP bind being (re)established; "unknown" — nothing to ask
 * (Twilio's API is only called when sending). `detail` is technical text for admins (an error code).
 */
export interface RouteStatus {
  route: Route;
  state: "ready" | "connecting" | "disconnected" | "unknown";
  since?: Date | undefined;
  detail?: string | undefined;
}

/** The routes this process can send through, and their state right now. */
export interface RouteDirectory {
  /** Configured routes, in the order SMS to a new resident prefers them. */
  configured: readonly Route[];
  statuses(): RouteStatus[];
}

/** How long an Android gateway may stay silent (its `system:ping`s stop) before admins are warned. */
export const GATEWAY_SILENT_MS = 10 * 60_000;
