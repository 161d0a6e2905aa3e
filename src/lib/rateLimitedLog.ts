/** Writes one structured log line (e.g. `(fields, message) => logger.warn(fields, message)`). */
export type LogLine = (fields: Record<string, unknown>, message: string) => void;

export interface RateLimitedLog extends LogLine {
  /** Writes the pending "suppressed K" summary now, if any (at shutdown, or in a test). */
  flush(): void;
}

/**
 * Wraps a log function so a flood cannot fill the disk: in each window of `windowMs` the first
 * `perWindow` lines are written, the rest only counted, and the count is written as one summary line
 * ("… (K more like this were not logged)") with the first line of a later window, or on `flush()`.
 * Fixed windows on `clock`, so a test drives it with a fake clock and no timers.
 */
export function rateLimitedLog(log: LogLine, options: { perWindow: number; windowMs: number; clock: () => Date }): RateLimitedLog {
  let windowStart = Number.NEGATIVE_INFINITY;
  let written = 0;
  let suppressed = 0;
  let lastMessage = "";

  const flush = () => {
    if (suppressed === 0) return;
    log({ suppressed, since: new Date(windowStart).toISOString() }, `${lastMessage} (${suppressed} more like this were not logged)`);
    suppressed = 0;
  };

  const write: LogLine = (fields, message) => {
    const now = options.clock().getTime();
    // A clock stepping backwards (NTP) stays in the current window rather than opening a new one.
    if (now >= windowStart + options.windowMs) {
      flush();
      windowStart = now;
      written = 0;
    }
    if (written < options.perWindow) {
      written++;
      log(fields, message);
    } else {
      suppressed++;
      lastMessage = message;
    }
  };
  return Object.assign(write, { flush });
}
