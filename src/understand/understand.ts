import { languageEvidence, type WrittenLanguage } from "./detectLanguage.js";
import { COMMANDS, PHRASES } from "./lexicon.js";
import { matchesPhrase, toPhrase, type Phrase } from "./matchesPhrase.js";
import { normalizeText, tokens } from "./normalizeText.js";

/** What the bot can tell from a message's words alone, before any conversation state. */
export type Intent =
  | { type: "optOut" }
  | { type: "optIn" }
  | { type: "help" }
  | { type: "menu" }
  | { type: "cancel" }
  | { type: "switchLanguage"; locale: "ar" | "en" }
  | { type: "status"; reference?: number }
  | { type: "human" }
  | { type: "balance" }
  | { type: "statement" }
  | { type: "linkAccount" }
  | { type: "howToPay" }
  | { type: "reportPayment" }
  | { type: "newRequest"; categoryCode?: string }
  | { type: "greeting" }
  | { type: "joinSurveys" }
  | { type: "leaveSurveys" }
  | { type: "unclear" };

export interface Understanding {
  /** Normalised text (digits folded, Arabic variants unified). */
  normalized: string;
  language: WrittenLanguage | null;
  /** The language is clear enough to remember (not a lone "ok" or "bonjour"). */
  languageIsClear: boolean;
  intent: Intent;
  /** A bare number 1-99 ("٣", "3.", "3)"): a menu choice. */
  choice: number | null;
  /** The message mentions schools or children. */
  aboutChildren: boolean;
  /** The best-matching category from the message's words, if any. */
  categoryCode: string | null;
}

/** What `understand` needs to know about a category. */
export interface CategoryKeywords {
  code: string;
  keywords: readonly string[];
}

const prepared = <T extends Record<string, readonly string[]>>(table: T) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v.map(toPhrase)])) as { [K in keyof T]: Phrase[] };
const COMMAND_PHRASES = prepared(COMMANDS);
const INTENT_PHRASES = prepared(PHRASES);
// Keyed by the keywords array itself, so a category's keywords are tokenised once for as long as
// its caller keeps the array: the inbox's CategoryCache hands every message the same arrays until
// staff edit a category. (A fresh array per message, as a direct database read gives, always misses.)
const categoryPhrases = new WeakMap<readonly string[], Phrase[]>();

function phrasesOf(category: CategoryKeywords): Phrase[] {
  let phrases = categoryPhrases.get(category.keywords);
  if (!phrases) {
    phrases = category.keywords.map(toPhrase).filter((p) => p.length > 0);
    categoryPhrases.set(category.keywords, phrases);
  }
  return phrases;
}

/** The message is exactly one of the listed commands. */
export function isCommand(words: readonly string[], command: keyof typeof COMMANDS): boolean {
  const message = words.join(" ");
  return COMMAND_PHRASES[command].some((p) => p.join(" ") === message);
}

function mentions(words: readonly string[], table: keyof typeof PHRASES): boolean {
  return INTENT_PHRASES[table].some((p) => matchesPhrase(words, p));
}

// "10427", "#10427", "status 10427", "حالة 10427": references have five to seven digits, so menu
// numbers and short numbers in a description are never taken for one.
const REFERENCE = /(?:^|[^\d])#?\s?(\d{5,7})(?!\d)/;

/** The ticket reference a message asks about, if it is one. */
export function referenceIn(text: string): number | null {
  const folded = normalizeText(text.replace(/#/g, " "));
  const match = REFERENCE.exec(` ${folded}`);
  return match ? Number(match[1]) : null;
}

// Words that come with a greeting without adding anything to it: "السلام عليكم ورحمة الله وبركاته",
// "hi there", "hello, how are you?", "marhaba ya jame3a".
const GREETING_COMPANY = [
  "ورحمه", "الله", "وبركاته", "يا", "جماعه", "شباب", "عليكم", "عليكن", "وعليكم", "كيفكم", "كيفكن", "كيف", "الحال", "حالك",
  "there", "all", "everyone", "guys", "team", "dear", "how", "are", "you", "doing",
  "ya", "jame3a", "jama3a", "shabeb", "shabab", "kif", "kifkon", "el", "7al", "7alak",
];
const GREETING_WORDS: Phrase[] = [...PHRASES.greeting, ...GREETING_COMPANY].flatMap(toPhrase).map((word) => [word]);

/**
 * The message only greets ("مرحبا", "السلام عليكم ورحمة الله", "hi there, how are you?"): it says
 * nothing else that could be an answer or a follow-up. `normalized` as `understand` gives it.
 */
export function onlyGreets(normalized: string): boolean {
  const words = tokens(normalized);
  return words.length > 0 && words.every((word) => GREETING_WORDS.some((greeting) => matchesPhrase([word], greeting)));
}

/** Scores every category by how many of its keywords the message contains; ties go to the first. */
export function matchCategory(words: readonly string[], categories: readonly CategoryKeywords[]): string | null {
  let best: { code: string; score: number } | null = null;
  for (const category of categories) {
    const score = phrasesOf(category).reduce((sum, p) => sum + (matchesPhrase(words, p) ? p.length : 0), 0);
    if (score > 0 && (!best || score > best.score)) best = { code: category.code, score };
  }
  return best?.code ?? null;
}

/**
 * Reads one message: its language, whether it is a command, a menu number, a reference,
 * or a request that names a category. Pure; the conversation decides what it means in context.
 */
export function understand(text: string, categories: readonly CategoryKeywords[]): Understanding {
  const normalized = normalizeText(text);
  const words = tokens(normalized);
  const choiceMatch = /^\s*(\d{1,2})\s*[.)\-]?\s*$/.exec(normalizeText(text.replace(/[.)]/g, " ")));
  const categoryCode = matchCategory(words, categories);
  const evidence = languageEvidence(text);
  return {
    normalized,
    language: evidence.language,
    languageIsClear: evidence.clear,
    intent: intentOf(text, words, categoryCode),
    choice: choiceMatch ? Number(choiceMatch[1]) : null,
    aboutChildren: mentions(words, "children"),
    categoryCode,
  };
}

function intentOf(text: string, words: readonly string[], categoryCode: string | null): Intent {
  if (words.length === 0) return /\?/.test(text) ? { type: "help" } : { type: "unclear" };
  if (isCommand(words, "optOut")) return { type: "optOut" };
  if (isCommand(words, "optIn")) return { type: "optIn" };
  if (isCommand(words, "leaveSurveys")) return { type: "leaveSurveys" };
  if (isCommand(words, "joinSurveys")) return { type: "joinSurveys" };
  if (isCommand(words, "help")) return { type: "help" };
  if (isCommand(words, "menu")) return { type: "menu" };
  if (isCommand(words, "cancel")) return { type: "cancel" };
  if (isCommand(words, "english")) return { type: "switchLanguage", locale: "en" };
  if (isCommand(words, "arabic")) return { type: "switchLanguage", locale: "ar" };
  // "status 10427", "شو صار بالطلب رقم 10427": a short message around a number asks about it; a long
  // one ("the pipe at building 10427 leaks again...") is describing something.
  const reference = words.length <= 6 ? referenceIn(text) : null;
  if (reference !== null) return { type: "status", reference };
  // A message that names a problem in a sentence is a request, even if it says "someone" or
  // "employee" ("موظف البلدية ما إجا يلم الزبالة"): the category wins over looser phrases.
  if (categoryCode && words.length >= 4) return { type: "newRequest", categoryCode };
  if (mentions(words, "status")) return { type: "status" };
  if (mentions(words, "human")) return { type: "human" };
  // "I paid my bill" reports a payment, "how do I pay my bill" asks how: both before "my bill".
  if (mentions(words, "reportPayment")) return { type: "reportPayment" };
  if (mentions(words, "howToPay")) return { type: "howToPay" };
  if (mentions(words, "linkAccount")) return { type: "linkAccount" };
  if (mentions(words, "statement")) return { type: "statement" };
  if (mentions(words, "balance")) return { type: "balance" };
  if (categoryCode) return { type: "newRequest", categoryCode };
  if (mentions(words, "newRequest")) return { type: "newRequest" };
  if (mentions(words, "greeting")) return { type: "greeting" };
  return { type: "unclear" };
}
