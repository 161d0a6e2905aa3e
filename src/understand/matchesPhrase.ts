import { boundedMemo } from "../lib/boundedMemo.js";
import { normalizeText, tokens } from "./normalizeText.js";

// Arabic clitics glued to the front of a word: "بالطريق", "والريحه", "للمدرسه", "عالطريق".
const ARABIC_PREFIXES = ["وبال", "وال", "فال", "بال", "كال", "لل", "عال", "ال", "و", "ف", "ب", "ل", "ك"];
// Arabizi writes the same clitics as separate words or glued with a letter: "bel tari2", "lal baladiye".
const LATIN_PREFIXES = ["bel", "bil", "lal", "el", "l", "al", "w"];
const ARABIC_LETTER = /[\u0621-\u064a]/;

/** A word as written plus the same word with each plausible clitic removed (remembered: words repeat). */
const wordForms = boundedMemo(wordFormsOf);

function wordFormsOf(word: string): readonly string[] {
  const forms = new Set([word]);
  const prefixes = ARABIC_LETTER.test(word) ? ARABIC_PREFIXES : LATIN_PREFIXES;
  for (const form of [...forms]) {
    for (const prefix of prefixes) {
      if (form.startsWith(prefix) && form.length - prefix.length >= 2) {
        const rest = form.slice(prefix.length);
        forms.add(rest);
        // "والالعاب" = و + ال + العاب (itself normalised from الألعاب)
        for (const inner of prefixes) {
          if (rest.startsWith(inner) && rest.length - inner.length >= 2) forms.add(rest.slice(inner.length));
        }
      }
    }
  }
  return [...forms];
}

/**
 * Does one word of the message match one word of a keyword? Short keyword words (Arabic under
 * three letters like "مي", Latin under five like "bin" or "park") must match a whole word — "park"
 * must not catch "parked"; longer ones are stems that may be followed by endings ("زبال" matches
 * "الزباله", "pothole" matches "potholes").
 */
function wordMatches(word: string, keywordWord: string): boolean {
  const stem = ARABIC_LETTER.test(keywordWord) ? keywordWord.length >= 3 : keywordWord.length >= 5;
  return wordForms(word).some((form) => (stem ? form.startsWith(keywordWord) : form === keywordWord));
}

/**
 * What any phrase that can match somewhere in these words must start with: the first three letters
 * (or the whole of a shorter word) of every form of every word. A phrase whose first word starts
 * otherwise cannot match, so a caller with thousands of phrases skips most of them unread.
 */
export function phraseStarts(messageWords: readonly string[]): ReadonlySet<string> {
  const starts = new Set<string>();
  for (const word of messageWords) for (const form of wordForms(word)) starts.add(form.slice(0, 3));
  return starts;
}

/** The key `phraseStarts` holds for a phrase that could match. */
export const phraseStart = (phrase: Phrase) => (phrase[0] ?? "").slice(0, 3);

/** A keyword or phrase prepared once: its normalised words. */
export type Phrase = readonly string[];

/** Normalises a keyword or phrase written by a person ("صرف صحي", "street light"). */
export function toPhrase(text: string): Phrase {
  return tokens(normalizeText(text));
}

/**
 * True when the phrase's words appear consecutively in the message's words, each word
 * matched with clitics and endings tolerated.
 */
export function matchesPhrase(messageWords: readonly string[], phrase: Phrase): boolean {
  if (phrase.length === 0) return false;
  for (let start = 0; start + phrase.length <= messageWords.length; start++) {
    if (phrase.every((word, i) => wordMatches(messageWords[start + i]!, word))) return true;
  }
  return false;
}
