import { describe, expect, it } from "vitest";
import { matchPlace, type PlaceNames } from "../../src/understand/matchPlace.js";

// The sample places of samples/qab-elias-places.geojson, as its import reads them (names and aliases).
const PLACES: PlaceNames[] = [
  { id: 1, kind: "school", nameAr: "مدرسة قب الياس الرسمية", nameEn: "Qab Elias Public School", aliases: ["المدرسة الرسمية", "مدرسة قب الياس", "el madrase el rasmiye", "madraset 2ab elias", "the public school"] },
  { id: 2, kind: "school", nameAr: "ثانوية قب الياس الرسمية", nameEn: "Qab Elias Public Secondary School", aliases: ["الثانوية الرسمية", "el sanawiye", "el thanawiyye el rasmiye"] },
  { id: 3, kind: "kindergarten", nameAr: "روضة أطفال قب الياس", nameEn: "Qab Elias Kindergarten", aliases: ["الروضة", "el rawda", "rawdat el atfal"] },
  { id: 4, kind: "playground", nameAr: "حديقة البلدية", nameEn: "Municipal Garden", aliases: ["جنينة البلدية", "ملعب الحديقة", "jneinet el baladiye", "el hadi2a", "the municipal playground"] },
  { id: 5, kind: "playground", nameAr: "ملعب وادي الدلم", nameEn: "Wadi al-Delm Playground", aliases: ["ملعب الولاد", "mal3ab wadi el delm", "wadi el delm playground"] },
  { id: 6, kind: "landmark", nameAr: "مبنى بلدية قب الياس - وادي الدلم", nameEn: "Qab Elias - Wadi al-Delm Municipality", aliases: ["البلدية", "مبنى البلدية", "el baladiye", "baladiyet 2ab elias", "the municipality"] },
  { id: 7, kind: "place_of_worship", nameAr: "جامع العمري", nameEn: "Al-Omari Mosque", aliases: ["الجامع العمري", "jeme3 el 3omari", "el jemea el omari", "jame3 el omari", "the omari mosque"] },
  { id: 8, kind: "place_of_worship", nameAr: "كنيسة قب الياس", nameEn: "Qab Elias Church", aliases: ["الكنيسة", "el kniseh", "el knise"] },
  { id: 9, kind: "pharmacy", nameAr: "صيدلية الطريق العام", nameEn: "Main Road Pharmacy", aliases: ["الصيدلية", "el saydaliyye", "saydaliyet el tari2 el 3am", "the pharmacy on the main road"] },
  { id: 10, kind: "clinic", nameAr: "مركز قب الياس الصحي", nameEn: "Qab Elias Health Centre", aliases: ["المستوصف", "المركز الصحي", "el mestawsaf", "el markaz el se7e", "the health center"] },
  { id: 11, kind: "landmark", nameAr: "الساحة العامة", nameEn: "Main Square", aliases: ["الساحة", "el sa7a", "sahet 2ab elias", "the square"] },
];

const placeOf = (text: string, places = PLACES) => matchPlace(text, places)?.placeId ?? null;

describe("matchPlace: the corpus's location lines", () => {
  // Corpus-style lines, as residents write a location (Arabic, with and without tashkeel, ة/ه,
  // clitics; Arabizi with 2/3/7; English).
  it.each([
    // Arabic
    ["قدام مدرسة قب الياس الرسمية", 1],
    ["قدّامَ مَدرسةِ قبّ الياس الرسميّة", 1],
    ["قدام مدرسه قب الياس الرسميه", 1],
    ["قدام المدرسة الرسمية", 1],
    ["بالمدرسة الرسمية", 1],
    ["حد الثانوية الرسمية", 2],
    ["جنب روضة أطفال قب الياس", 3],
    ["بحديقة البلدية في مرجوحة مكسورة", 4],
    ["عند ملعب الولاد بوادي الدلم", 5],
    ["ملعب وادي الدلم", 5],
    ["حد الجامع العمري", 7],
    ["ورا جامع العمري", 7],
    ["قرب الكنيسة", 8],
    ["بجانب الصيدلية", 9],
    ["عالطريق العام حد صيدلية الطريق العام", 9],
    ["قدام المستوصف", 10],
    ["بالساحة العامة", 11],
    ["مقابيل مبنى البلدية", 6],
    // Arabizi
    ["7ad jeme3 el 3omari", 7],
    ["2oddem el madrase el rasmiye", 1],
    ["2oddem madrase rasmiye", 1],
    ["7ad madraset 2ab elias", 1],
    ["bel hadi2a", 4],
    ["jneinet el baladiye", 4],
    ["mal3ab wadi el delm", 5],
    ["janb el saydaliyye", 9],
    ["wara el kniseh", 8],
    ["3al sa7a", 11],
    // English
    ["near the pharmacy on the main road", 9],
    ["in front of Qab Elias Public School", 1],
    ["next to the Omari mosque", 7],
    ["Wadi al-Delm playground, the slide is broken", 5],
    ["behind the church", 8],
    ["opposite the health center", 10],
  ])("%s → place %s", (text, id) => {
    expect(placeOf(text)).toBe(id);
  });

  it("says which name matched, as written", () => {
    expect(matchPlace("قدام المدرسة الرسمية", PLACES)).toEqual({ placeId: 1, matchedName: "المدرسة الرسمية" });
    expect(matchPlace("7ad jeme3 el 3omari", PLACES)).toEqual({ placeId: 7, matchedName: "jeme3 el 3omari" });
    expect(matchPlace("بجانب الصيدلية", PLACES)).toEqual({ placeId: 9, matchedName: "الصيدلية" });
  });
});

describe("matchPlace: the longest name wins, ties and unknowns give nothing", () => {
  it("prefers the name with the most words", () => {
    // "مدرسة قب الياس" (3 words) and "مدرسة قب الياس الرسمية" (4) are both the public school; the
    // secondary school's "الثانوية الرسمية" does not match.
    expect(matchPlace("حد مدرسة قب الياس الرسمية", PLACES)?.matchedName).toBe("مدرسة قب الياس الرسمية");
    // "الساحة العامة" (2 words) beats the one-word "الصيدلية".
    expect(placeOf("الصيدلية اللي بالساحة العامة")).toBe(11);
  });

  // Found in review: everyday words that used to put a request at a place (and often flag it child-related).
  it.each([
    "في تسريب مي بالجنينة تبعنا",
    "water leaking in my garden",
    "the car park is full of rubbish",
    "روضة جارتنا",
    "la rawda bint jarti",
    "قضية حضانة",
    "قرب الجامعة اللبنانية",
    "7ad el jami3a",
    "clinical waste on the road",
    "one square metre of broken pavement",
    "Dear Qab Elias Wadi al-Delm Municipality, the road is broken",
    "ya baladiyet 2ab elias, fi jura kbire",
    "ولادي بيروحوا عالمدرسة بالعتمة",
  ])("'%s' names no place", (text) => {
    expect(placeOf(text)).toBeNull();
  });

  it("gives nothing when two places tie", () => {
    // Both the pharmacy and the square by one word each.
    expect(placeOf("بين الصيدلية والساحة")).toBeNull();
    // The same alias on two places.
    const twins = [PLACES[0]!, { ...PLACES[1]!, aliases: ["المدرسة الرسمية"] }];
    expect(placeOf("قدام المدرسة الرسمية", twins)).toBeNull();
  });

  it("a generic word alone points at a place only when the town has one of that kind", () => {
    // Two schools: "the school" is either.
    expect(placeOf("قدام المدرسة")).toBeNull();
    expect(placeOf("near the school")).toBeNull();
    expect(placeOf("7ad el madrase")).toBeNull();
    // One school: it is that one.
    const oneSchool = PLACES.filter((p) => p.id !== 2);
    expect(placeOf("قدام المدرسة", oneSchool)).toBe(1);
    expect(placeOf("near the school", oneSchool)).toBe(1);
    // Two pharmacies: "الصيدلية" (an alias of one of them) is either.
    const twoPharmacies = [...PLACES, { id: 12, kind: "pharmacy", nameAr: "صيدلية النور", nameEn: "Al-Nour Pharmacy", aliases: [] }];
    expect(placeOf("بجانب الصيدلية", twoPharmacies)).toBeNull();
    expect(placeOf("بجانب صيدلية النور", twoPharmacies)).toBe(12);
    // Two playgrounds: "the playground" is either.
    expect(placeOf("the playground swing is broken")).toBeNull();
  });

  it("the municipality named alone is who residents write to, not where", () => {
    expect(placeOf("بدي اشتكي للبلدية")).toBeNull();
    expect(placeOf("please tell the municipality")).toBeNull();
    expect(placeOf("ya baladiye")).toBeNull();
  });

  it.each(["قدام بيت ابو علي", "7ad el forn", "near the bakery", "", "   ", "123"])("nothing known in %j → null", (text) => {
    expect(placeOf(text)).toBeNull();
  });

  it("no places, no match", () => {
    expect(matchPlace("قدام المدرسة الرسمية", [])).toBeNull();
  });

  it("does not take a short word inside a longer one", () => {
    // "square" must not be read in "squared", nor "park" in "parked".
    const park = [{ id: 20, kind: "park", nameAr: "منتزه", nameEn: "Park", aliases: [] }];
    expect(placeOf("a car parked on the pavement", park)).toBeNull();
    expect(placeOf("the car is at the park", park)).toBe(20);
  });
});
