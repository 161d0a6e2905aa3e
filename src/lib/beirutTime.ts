const TIME_ZONE = "Asia/Beirut";

const wallClock = new Intl.DateTimeFormat("en-CA", {
  timeZone: TIME_ZONE,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * An instant as Beirut's clocks showed it, in the W3C profile of ISO 8601 that Open311 asks for:
 * "2026-11-29T09:15:00+02:00" — seconds, never milliseconds (they are dropped, not rounded), and
 * the offset in force at that instant (+02:00 in winter, +03:00 in summer time).
 */
export function beirutW3c(at: Date): string {
  const seconds = Math.floor(at.getTime() / 1000) * 1000;
  const p = Object.fromEntries(wallClock.formatToParts(new Date(seconds)).map((x) => [x.type, x.value]));
  const [year, month, day, hour, minute, second] = [p.year, p.month, p.day, p.hour, p.minute, p.second].map(Number) as [number, number, number, number, number, number];
  // The wall clock read as if it were UTC, minus the instant: the offset Beirut had then.
  const offsetMinutes = Math.round((Date.UTC(year, month - 1, day, hour, minute, second) - seconds) / 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${String(year).padStart(4, "0")}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
