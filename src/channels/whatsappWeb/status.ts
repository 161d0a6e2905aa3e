/**
 * What the WhatsApp Web channel says about itself, for the admin page (/staff/admin/whatsapp-web),
 * the channels page and /healthz. The instance holding the session publishes it to the database
 * (table WhatsAppWebSession) every few seconds, so every instance behind a load balancer shows the
 * same thing, and asks to log out go through the same row.
 */
export const WWEB_STATES = [
  /** Chromium is starting and WhatsApp Web loading (or resuming a saved session). */
  "starting",
  /** Not linked: a QR code is waiting to be scanned with the municipality's phone. */
  "waiting_for_qr",
  /** Linked and connected: messages come and go. */
  "ready",
  /** Connection lost (or Chromium failed): retrying with backoff. */
  "disconnected",
  /** Unlinked from the phone (or by an admin): nothing is retried until someone scans a new QR. */
  "logged_out",
  /** Stopped (shutdown). */
  "stopped",
] as const;
export type WhatsAppWebState = (typeof WWEB_STATES)[number];

export interface WhatsAppWebStatus {
  state: WhatsAppWebState;
  since: Date;
  /** The QR payload to render while `waiting_for_qr` (WhatsApp rotates it about every 20 s). */
  qr?: string | undefined;
  qrAt?: Date | undefined;
  /** The linked WhatsApp number, E.164, once ready. */
  linkedNumber?: string | undefined;
  /** Technical detail for admins (the last error, the disconnect reason). */
  detail?: string | undefined;
  /** Which instance ("host:pid") holds the session. */
  holder?: string | undefined;
  /** When the holder last published this: older than STATUS_STALE_MS means no instance holds the session. */
  updatedAt: Date;
  /** When the next reconnection attempt is due (disconnected). */
  retryAt?: Date | undefined;
}

/** A status not refreshed for this long means the holder is gone (the lease lets another take over). */
export const STATUS_STALE_MS = 60_000;

/** What the staff pages and /healthz may ask of the channel, whichever instance they run on. */
export interface WhatsAppWebControl {
  /** The published status; null when no instance has ever held the session. */
  status(): Promise<WhatsAppWebStatus | null>;
  /**
   * Asks the holding instance to log the session out (unlink the phone); it does so within a few
   * seconds. Recorded in the audit log as `staffId`'s action.
   */
  requestLogout(staffId: number): Promise<void>;
  /**
   * Asks the holder to start again after a logout (a fresh QR code): a logged-out session is
   * never retried on its own.
   */
  requestRelink(staffId: number): Promise<void>;
}
