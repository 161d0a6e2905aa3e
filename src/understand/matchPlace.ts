import { boundedMemo } from "../lib/boundedMemo.js";
import { matchesPhrase, phraseStart, phraseStarts, toPhrase, type Phrase } from "./matchesPhrase.js";
import { normalizeText, tokens } from "./normalizeText.js";

/** What matching needs of a place: its id, kind and the names residents may use for it. */
export interface PlaceNames {
  id: number;
  kind: string;
  nameAr: string;
  nameEn: string;
  aliases: readonly string[];
}

export interface PlaceMatch {
  placeId: number;
  /** The name, alias or generic word ("pharmacy") that matched, as written. */
  matchedName: string;
}

/**
 * Words that name a kind of place rather than one place ("the school", "الصيدلية"). Alone they
 * point at a place only when the town has exactly one place of that kind; a place's one-word name or
 * alias that is one of them follows the same rule. Written as residents write them; normalised below.
 */
interface GenericGroup {
  /** The kinds of place the words name. */
  kinds: readonly string[];
  words: readonly string[];
  /**
   * Only the places of those kinds that have one of the words in a name count ("the church" is not
   * the mosque, though both are places of worship).
   */
  narrow?: boolean;
}
const GENERIC_GROUPS: readonly GenericGroup[] = [
  { kinds: ["school"], words: ["مدرسة", "school", "madrase", "madrasa", "madraseh", "madrasse", "madrese"] },
  // "حضانة" is also custody, "rawda" a woman's name: like every word here they count only after "قدام", "7ad", "near"...
  { kinds: ["kindergarten", "childcare"], words: ["روضة", "حضانة", "kindergarten", "nursery", "daycare", "rawda", "rawdat", "7adane", "hadane"] },
  { kinds: ["playground", "park", "schoolyard"], words: ["ملعب", "ملاهي", "playground", "mal3ab", "mala3eb"], narrow: true },
  // Not "جنينة" / "garden" / "jnene": everyone's home has one ("بالجنينة تبعنا"). Their full names still match.
  { kinds: ["playground", "park"], words: ["حديقة", "منتزه", "park", "7adi2a", "hadi2a"], narrow: true },
  { kinds: ["clinic"], words: ["مستوصف", "عيادة", "clinic", "dispensary", "mostawsaf", "mestawsaf", "mustawsaf", "3iyade"] },
  { kinds: ["place_of_worship"], words: ["جامع", "مسجد", "mosque", "jeme3", "jemea", "jami3", "jame3", "masjed"], narrow: true },
  { kinds: ["place_of_worship"], words: ["كنيسة", "church", "kanise", "kniseh", "knise", "kenise"], narrow: true },
  { kinds: ["pharmacy"], words: ["صيدلية", "pharmacy", "saydaliye", "saydaliyye", "saydaliyeh", "saydalie"] },
  // "one square metre" is not the town square.
  { kinds: ["landmark"], words: ["ساحة", "square", "sa7a", "saha"], narrow: true },
];

/**
 * Words for the municipality itself: residents write to it ("بدي اشتكي للبلدية", "please tell the
 * municipality"), so on their own they say nothing about where the problem is. A one-word name or
 * alias made of one of them is never matched alone ("مبنى البلدية" still is).
 */
const ADDRESSEE_WORDS = ["بلدية", "municipality", "baladiye", "baladiyeh", "baladiyye", "baladieh", "baladiya", "town hall", "townhall"];

/** Latin articles residents write apart ("el madrase el rasmiye"), dropped on both sides so "madrase rasmiye" matches too. */
const LATIN_ARTICLES = new Set(["el", "al", "il", "l", "the"]);
const ARABIC_WORD = /^[\u0621-\u064a]+$/;

/**
 * The words of a name, ready to match: normalised like the message, Latin articles dropped, and the
 * Arabic article removed from the front of a word ("المدرسه" → "مدرسه"), since the message side
 * already tolerates it glued to the word (see `matchesPhrase`) but would not accept it missing.
 */
const namePhrase = boundedMemo(namePhraseOf);

function namePhraseOf(name: string): Phrase {
  return toPhrase(name)
    .filter((word) => !LATIN_ARTICLES.has(word))
    .map((word) => (ARABIC_WORD.test(word) && word.startsWith("ال") && word.length - 2 >= 3 ? word.slice(2) : word));
}

const ADDRESSEE: ReadonlySet<string> = new Set(ADDRESSEE_WORDS.flatMap((word) => namePhrase(word)));
/** Words that make a name about the municipality's building rather than the municipality ("مبنى البلدية"). */
const BUILDING: ReadonlySet<string> = new Set(
  ["مبنى", "بناية", "سراي", "جنينة", "ساحة", "building", "garden", "square", "mabna", "binaye", "serail", "saray", "jneine", "jneinet", "jnene", "saha", "sehet"].flatMap((word) => namePhrase(word)),
);
/**
 * "Qab Elias Municipality", "baladiyet 2ab elias": the name of whom residents write to, not of where
 * the problem is ("ya baladiyet 2ab elias, fi jura..."). A name with a municipality word in it counts
 * only with a building word ("مبنى البلدية").
 */
const namesTheAddressee = (phrase: Phrase) =>
  phrase.some((word) => ADDRESSEE.has(word) || [...ADDRESSEE].some((a) => word.startsWith(a))) && !phrase.some((word) => BUILDING.has(word) || GENERIC.has(word));

/**
 * Words that introduce where something is ("قدام", "7ad", "near"): a word naming a kind of place
 * ("the school") points at the town's one place of that kind only right after one of them —
 * "ولادي بيروحوا عالمدرسة" says nothing about where the broken light is.
 */
const DIRECTION_WORDS: ReadonlySet<string> = new Set(
  [
    "قدام", "قبال", "مقابل", "حد", "حدا", "جنب", "جانب", "بجانب", "قرب", "بالقرب", "عند", "ورا", "وراء", "خلف", "امام", "تحت", "فوق", "بوجه", "طريق", "شارع", "مدخل", "باب", "بين", "في",
    "near", "next", "opposite", "behind", "beside", "front", "by", "at", "outside", "entrance", "gate", "road", "street", "between", "in",
    "2oddem", "2odem", "odem", "2odam", "7ad", "had", "7ada", "janb", "jamb", "2orb", "orb", "wara", "3and", "2bel", "2ebel", "mafra2", "tari2", "share3", "bab", "bayn", "ben", "bel", "bil", "fi", "3al", "3a", "bi",
  ].flatMap((word) => namePhrase(word)),
);

const POSSESSIVE_BEFORE: ReadonlySet<string> = new Set(["my", "our", "his", "her", "their", "your"]);
const POSSESSIVE_AFTER: ReadonlySet<string> = new Set(["تبعنا", "تبعي", "تبعو", "تبعه", "تبعها", "تبعهم", "تبعكن", "تبعك", "taba3na", "taba3i", "tab3na", "tab3i", "taba3o", "taba3kon"].map((w) => normalizeText(w)));

/** Clitics glued to a generic word ("بالمدرسه", "عالصيدليه", "lmadrase"), and nothing after it ("جامعه" is not "جامع"). */
const GENERIC_PREFIXES = ["", "ال", "بال", "لل", "عال", "وال", "فال", "كال", "و", "ب", "ل", "l", "b", "el", "bel", "lal", "al"];
const isGenericWord = (word: string, generic: string) => GENERIC_PREFIXES.some((prefix) => word === prefix + generic);

/** Where a generic word stands right after a direction word (one word may sit between: "قدام باب المدرسة"). */
function genericAfterDirection(words: readonly string[], generic: string): boolean {
  for (let i = 0; i < words.length; i++) {
    if (!isGenericWord(words[i]!, generic)) continue;
    // "my school", "المدرسة تبعنا": someone's own, not the town's.
    if (POSSESSIVE_BEFORE.has(words[i - 1] ?? "") || POSSESSIVE_AFTER.has(words[i + 1] ?? "")) continue;
    // "بالمدرسه": "at the school" in one word.
    if (words[i] === `بال${generic}`) return true;
    if ([words[i - 1], words[i - 2]].some((before) => before !== undefined && (DIRECTION_WORDS.has(before) || [...DIRECTION_WORDS].some((d) => before.endsWith(d) && before.length - d.length <= 2)))) return true;
  }
  return false;
}

interface PreparedGroup {
  kinds: readonly string[];
  words: readonly string[];
  narrow: boolean;
}

/** Normalised generic word → the groups it belongs to. */
const GENERIC: ReadonlyMap<string, readonly PreparedGroup[]> = (() => {
  const map = new Map<string, PreparedGroup[]>();
  for (const group of GENERIC_GROUPS) {
    const prepared: PreparedGroup = { kinds: group.kinds, words: group.words.flatMap((w) => namePhrase(w)), narrow: group.narrow ?? false };
    for (const word of prepared.words) map.set(word, [...(map.get(word) ?? []), prepared]);
  }
  return map;
})();

interface Candidate {
  placeId: number;
  matchedName: string;
  words: number;
}

/**
 * The place a resident's landmark points at ("قدام مدرسة قب الياس الرسمية", "7ad jeme3 el 3omari",
 * "near the pharmacy on the main road"), matched against every place's Arabic and English names and
 * aliases with the bot's normalisation (spelling variants, tashkeel, Arabizi, clitics). The name with
 * the most words wins; two different places tied at the top give null — better no point than a wrong
 * one. A generic word ("school", "الصيدلية"), as a one-word name or alone in the message, counts
 * only when the town has exactly one place of that kind.
 */
export function matchPlace(text: string, places: readonly PlaceNames[]): PlaceMatch | null {
  const words = tokens(normalizeText(text)).filter((word) => !LATIN_ARTICLES.has(word));
  if (words.length === 0 || places.length === 0) return null;
  /** The one place a generic word may point at: the town's only place of its kind (or of its kind named so). */
  const sole = new Map<readonly PreparedGroup[], PlaceNames | null>();
  const soleOf = (groups: readonly PreparedGroup[]) => {
    if (!sole.has(groups)) {
      const matching = places.filter((place) => groups.some((group) => group.kinds.includes(place.kind) && (!group.narrow || namedWithAny(place, group.words))));
      sole.set(groups, matching.length === 1 ? matching[0]! : null);
    }
    return sole.get(groups)!;
  };

  const candidates: Candidate[] = [];
  const starts = phraseStarts(words);
  for (const place of places) {
    let best: Candidate | null = null;
    for (const { name, phrase, start } of preparedNames(place)) {
      if (!starts.has(start)) continue;
      if (phrase.length === 0) continue;
      if (namesTheAddressee(phrase)) continue;
      if (phrase.length === 1) {
        const groups = GENERIC.get(phrase[0]!);
        if (groups) {
          // A one-word name that is only a kind of place ("الصيدلية") follows the generic word's rules.
          if (soleOf(groups)?.id !== place.id || !genericAfterDirection(words, phrase[0]!)) continue;
          if (1 > (best?.words ?? 0)) best = { placeId: place.id, matchedName: name.trim(), words: 1 };
          continue;
        }
      }
      if (phrase.length > (best?.words ?? 0) && matchesPhrase(words, phrase)) best = { placeId: place.id, matchedName: name.trim(), words: phrase.length };
    }
    if (best) candidates.push(best);
  }
  // "near the pharmacy": a kind named alone, when the town has one place of that kind.
  for (const [word, groups] of GENERIC) {
    if (!genericAfterDirection(words, word)) continue;
    const place = soleOf(groups);
    if (place && !candidates.some((c) => c.placeId === place.id)) candidates.push({ placeId: place.id, matchedName: word, words: 1 });
  }
  if (candidates.length === 0) return null;
  const most = Math.max(...candidates.map((c) => c.words));
  const top = candidates.filter((c) => c.words === most);
  if (top.length !== 1) return null;
  const { placeId, matchedName } = top[0]!;
  return { placeId, matchedName };
}

// A place's names, normalised once for as long as the caller keeps the place object (the process's
// place cache hands every ticket the same frozen records): a town of thousands of places would
// otherwise overflow namePhrase's memo and normalise every name on every filed ticket.
interface PreparedName {
  name: string;
  phrase: Phrase;
  start: string;
}
const prepared = new WeakMap<PlaceNames, readonly PreparedName[]>();

function preparedNames(place: PlaceNames): readonly PreparedName[] {
  let names = prepared.get(place);
  if (!names) {
    names = [place.nameAr, place.nameEn, ...place.aliases].map((name) => {
      const phrase = namePhraseOf(name);
      return { name, phrase, start: phraseStart(phrase) };
    });
    prepared.set(place, names);
  }
  return names;
}

/** Does one of the place's names contain one of these (normalised) words? */
function namedWithAny(place: PlaceNames, words: readonly string[]): boolean {
  return preparedNames(place).some(({ phrase }) => phrase.some((word) => words.includes(word)));
}
