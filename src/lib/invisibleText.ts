/**
 * Character classes (for `new RegExp`, inside `[…]`) of the characters nobody means to type that
 * change how text reads: with them a name, an address or a link can be made to display as another.
 * Each caller decides which of these it refuses, masks or shows escaped.
 */

/** Bidi embeddings and overrides (LRE…RLO) and isolates (LRI…PDI). */
export const BIDI_OVERRIDES = "\\u202a-\\u202e\\u2066-\\u2069";
/** BIDI_OVERRIDES and the left-to-right / right-to-left marks. */
export const BIDI_CONTROLS = `\\u200e\\u200f${BIDI_OVERRIDES}`;
/** C0 controls but tab, line feed and carriage return; DEL and the C1 controls. */
export const CONTROLS_BUT_LINE_BREAKS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f";
/** Every C0 control, DEL and the C1 controls. */
export const ALL_CONTROLS = "\\u0000-\\u001f\\u007f-\\u009f";
