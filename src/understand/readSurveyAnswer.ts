import type { SurveyQuestion } from "../conversation/types.js";
import { foldDigits } from "./foldDigits.js";
import { NUMBER_WORDS } from "./lexicon.js";
import { normalizeText, tokens } from "./normalizeText.js";
import { isCommand } from "./understand.js";

/** What a message says as an answer to a survey question. */
export type SurveyAnswerReading = { kind: "answer"; value: string } | { kind: "skip" } | { kind: "unusable" };

/** Free answers are kept up to this length (an SMS of 10 segments is already long). */
export const MAX_FREE_ANSWER = 1000;

const SPELLED = new Map(Object.entries(NUMBER_WORDS).map(([word, n]) => [normalizeText(word), n]));

/**
 * Reads an answer the way residents write it: any digit system ("٤", "4", "۴"), a number in words
 * ("خمسة", "khamse", "five"), a score ("5/5", "4 من 5", "4 out of 5"), yes/no in Arabic, Arabizi
 * or English ("نعم", "eh", "la2"), an option's own words ("الطرقات" for option 2 "الطرقات"), or
 * "skip"/"تخطي". Pure.
 */
export function readSurveyAnswer(text: string, question: SurveyQuestion): SurveyAnswerReading {
  const normalized = normalizeText(text);
  const words = tokens(normalized);
  if (words.length > 0 && isCommand(words, "surveySkip")) return { kind: "skip" };
  switch (question.type) {
    case "text": {
      // Cut by code points, so a cut never splits an emoji in two.
      const answer = Array.from(text.trim().toWellFormed()).slice(0, MAX_FREE_ANSWER).join("");
      return /[\p{L}\p{N}]/u.test(answer) ? { kind: "answer", value: answer } : { kind: "unusable" };
    }
    case "yesno": {
      if (isCommand(words, "yes") || (words.length <= 3 && isCommand(words.slice(0, 1), "yes"))) return { kind: "answer", value: "yes" };
      if (isCommand(words, "no") || (words.length <= 3 && isCommand(words.slice(0, 1), "no"))) return { kind: "answer", value: "no" };
      return { kind: "unusable" };
    }
    case "choice": {
      const n = numberIn(text, words);
      if (n !== null) return Number.isInteger(n) && n >= 1 && n <= question.options.length ? { kind: "answer", value: String(n) } : { kind: "unusable" };
      const named = question.options.findIndex((o) => [o.ar, o.en].some((label) => normalizeText(label) === normalized));
      return named >= 0 ? { kind: "answer", value: String(named + 1) } : { kind: "unusable" };
    }
    case "rating": {
      const n = numberIn(text, words);
      const min = question.min ?? 1;
      const max = question.max ?? 5;
      return n !== null && Number.isInteger(n) && n >= min && n <= max ? { kind: "answer", value: String(n) } : { kind: "unusable" };
    }
    case "number": {
      const n = numberIn(text, words);
      return n !== null && n >= 0 && n < 1e9 ? { kind: "answer", value: String(n) } : { kind: "unusable" };
    }
  }
}

// "4", "4.5", "4,5", "٤٫٥"; a score "4/5", "4 من 5", "4 out of 5", "4 sur 5" keeps its first number.
const NUMBER = /^\s*(\d{1,9}(?:[.,٫]\d{1,3})?)\s*(?:[.)]|(?:\/|من|out of|sur|men|mn)\s*\d{1,2})?\s*$/u;

/** The one number a short answer gives, in digits or words; null when there is none or several. */
function numberIn(text: string, words: readonly string[]): number | null {
  const match = NUMBER.exec(foldDigits(text.normalize("NFKC")).toLowerCase());
  if (match) return Number(match[1]!.replace(/[,٫]/, "."));
  if (words.length === 0 || words.length > 3) return null;
  // "خمسة", "khamse", "five", "5 نجوم", "خمسة من خمسة"
  const first = SPELLED.get(words[0]!) ?? (/^\d{1,2}$/.test(words[0]!) ? Number(words[0]) : undefined);
  if (first === undefined) return null;
  const rest = words.slice(1);
  const scoreTail = rest.length === 0 || rest.every((w) => ["من", "out", "of", "men", "mn", "نجوم", "نجمات", "stars", "star", "sur"].includes(w) || SPELLED.has(w) || /^\d{1,2}$/.test(w));
  return scoreTail ? first : null;
}
