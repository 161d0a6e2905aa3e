import { normalizeText, tokens } from "./normalizeText.js";

/** The language a message is written in; Arabizi is Arabic written in Latin letters and digits. */
export type WrittenLanguage = "ar" | "arabizi" | "en";

// Frequent Lebanese Arabizi words that are not English words.
const ARABIZI_WORDS = new Set(
  (
    "baddi badde bade bedde biddi fi fe mafi ma mish mesh msh shu chou shou sho chu wen wein kif kifak kifik " +
    "kifkon marhaba mar7aba ahla ahlan hala salam yalla khalas tayeb eh aywa la2 ktir kteer 3am 3ande 3anna " +
    "3na el bel bil lal men min mn 3a 3ala ya habibi bas hek hayda hayde hon honik lezem lazim baladiye " +
    "baladiyye mechkle mochkle moshkle mechkel shakwa chakwa zbele zbeleh mai may mayye kahraba kahrba dawe " +
    "share3 tari2 jora kbire kbir 2adem adem ade 2ade 3layye 3alay 3leyye wled wlad madrase 7ay 7ad ma2tou3a " +
    "ma2tou3 embere7 mbere7 mkawme sar seret ba3d ba3ed nhar lyom mbareh kashf kachf 7sab hsab hsebe " +
    "shukran chukran shokran emta emtin imta btiju btijo lesa lessa"
  ).split(" "),
);

// Frequent English function words.
const ENGLISH_WORDS = new Set(
  (
    "the a an is are was were my our your i you we it this that of on in at to for from with no not since " +
    "and or but there here please can could how what when where why do does did have has been be status " +
    "help stop start hello hi hey thanks thank want need report problem broken near street road water"
  ).split(" "),
);

// A digit standing for an Arabic sound inside a Latin word: 2=ء 3=ع 5=خ 6=ط 7=ح 8=غ 9=ق.
const ARABIZI_DIGIT_IN_WORD = /(?:[a-z][235679]|[235679][a-z])/;

/**
 * Tells Arabic script, Arabizi and English apart; null when the message has no letters
 * (digits, emoji, an empty media message). Arabic script wins whenever it dominates.
 */
export function detectLanguage(text: string): WrittenLanguage | null {
  return languageEvidence(text).language;
}

/**
 * The language of a message and whether it is clear enough to remember for the resident: Arabic
 * script and Arabizi always are; Latin text only with at least one known English word, so that a
 * lone "ok", "merci" or "bonjour" from an Arabic speaker does not switch them to English for good.
 */
export function languageEvidence(text: string): { language: WrittenLanguage | null; clear: boolean } {
  // Arabic-Indic or Persian digits come from an Arabic keyboard, even in a bare menu choice.
  if (/[\u0660-\u0669\u06f0-\u06f9]/.test(text) && !/[a-zA-Z]/.test(text)) return { language: "ar", clear: false };
  const normalized = normalizeText(text);
  const arabicLetters = (normalized.match(/[\u0621-\u064a]/g) ?? []).length;
  const latinLetters = (normalized.match(/[a-z]/g) ?? []).length;
  if (arabicLetters === 0 && latinLetters === 0) return { language: null, clear: false };
  if (arabicLetters >= latinLetters) return { language: "ar", clear: true };

  let arabizi = 0;
  let english = 0;
  for (const word of tokens(normalized)) {
    if (!/[a-z]/.test(word)) continue;
    if (ARABIZI_DIGIT_IN_WORD.test(word)) arabizi += 2;
    else if (ARABIZI_WORDS.has(word)) arabizi += 1;
    if (ENGLISH_WORDS.has(word)) english += 1;
  }
  if (arabizi > english) return { language: "arabizi", clear: true };
  return { language: "en", clear: english > 0 };
}
