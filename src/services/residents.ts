/** The resident model's pieces that are not queries (those are in src/db/hot/residents.ts). */

/** Why the bot stopped answering a resident: over the per-phone budget, or an autoresponder loop. */
export type BotPauseReason = "rate" | "loop";
export const BOT_PAUSE_REASONS = ["rate", "loop"] as const satisfies readonly BotPauseReason[];

/** A resident the bot stopped answering, since when and why. */
export interface BotPause {
  reason: BotPauseReason;
  since: Date;
}

/** The bot's pause on a resident as stored; null while the bot answers (an unknown reason reads as a flood). */
export function botPauseOf(resident: { botPausedAt: Date | null; botPauseReason: string | null }): BotPause | null {
  if (!resident.botPausedAt) return null;
  return { reason: resident.botPauseReason === "loop" ? "loop" : "rate", since: resident.botPausedAt };
}

/** Result of a staff member's "resume the bot". */
export type ResumeResult = { ok: true; reason: BotPauseReason } | { ok: false; error: "not_found" | "not_paused" };

