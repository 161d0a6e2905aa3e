import { foldDigits } from "./foldDigits.js";

// Tashkeel (harakat, tanween, shadda, sukun, superscript alef) and Quranic marks.
const TASHKEEL = /[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]/g;
const TATWEEL = /\u0640/g;

/**
 * Folds a resident's message into a canonical form for matching: presentation forms and
 * full-width characters unified (NFKC), digits folded to 0-9, lower case, tashkeel and tatweel
 * removed, alef/yaa/taa-marbuta/hamza-seat variants unified, letters stretched three times or more
 * collapsed ("اااالزباااله" → "الزباله", "hiiii" → "hi"), punctuation turned into spaces.
 * The same function is applied to keywords so that both sides meet in the middle.
 */
export function normalizeText(text: string): string {
  return foldDigits(text.normalize("NFKC"))
    .toLowerCase()
    .replace(TASHKEEL, "")
    .replace(TATWEEL, "")
    .replace(/[أإآٱ]/g, "ا")
    .replace(/ى/g, "ي")
    .replace(/ة/g, "ه")
    .replace(/ؤ/g, "و")
    .replace(/ئ/g, "ي")
    // Written Arabic never doubles a letter (shadda does that), so any run is stretching;
    // Latin words do double letters ("street"), so only runs of three or more are.
    .replace(/([\u0621-\u064a])\1+/g, "$1")
    .replace(/(\p{L})\1{2,}/gu, "$1")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The words of a normalised message. */
export function tokens(normalized: string): string[] {
  return normalized ? normalized.split(" ") : [];
}
