/**
 * What residents write to mean each command or intent, in Arabic, Arabizi and English.
 * These are vocabularies the bot listens for, not text it shows: replies live in locales/.
 * Entries are normalised with the same function as messages, so spelling variants of
 * alef, yaa, taa marbuta and tashkeel need not be listed.
 */

/** Whole-message commands: the message must be exactly one of these (after normalisation). */
export const COMMANDS = {
  optOut: ["stop", "stopall", "unsubscribe", "cancel all", "توقف", "وقف", "الغاء الاشتراك", "stop msgs", "ma baddi rasayel"],
  /**
   * Twilio itself treats these as opt-out on SMS numbers and blocks further messages, so on SMS they
   * must opt out here too or the database would disagree with what Twilio delivers.
   */
  smsOptOut: ["cancel", "end", "quit"],
  optIn: ["start", "unstop", "subscribe", "اشتراك", "اشترك", "ابدا", "تفعيل"],
  help: ["help", "info", "?", "مساعده", "مساعدة", "ساعدني", "ساعدوني", "مساعدي", "sa3edni", "mosa3ade", "help me"],
  menu: ["0", "menu", "main menu", "القائمه", "قائمه", "القايمه", "قايمه", "الرئيسيه", "2ayme", "ayme", "el 2ayme"],
  cancel: ["cancel", "الغاء", "الغي", "بطلت", "el8a2", "elgha2", "bateltt", "batalt"],
  english: ["english", "en", "eng", "انكليزي", "انجليزي", "الانكليزيه", "الانجليزيه", "inglizi", "englizi"],
  arabic: ["عربي", "العربيه", "ar", "arabic", "arabi", "3arabe", "3arabi", "عربى"],
  yes: ["1", "yes", "y", "ok", "okay", "yeah", "sure", "نعم", "اي", "ايه", "اه", "ايوه", "ايوا", "اكيد", "صح", "تمام", "مظبوط", "eh", "ah", "aywa", "akid", "tamem", "sa7", "na3am", "mazbout"],
  no: ["2", "no", "n", "nope", "لا", "لأ", "كلا", "مش هيك", "la", "la2", "mish", "la ma", "la2a", "mesh"],
  /** Join the town's surveys (or resume one left unfinished). */
  joinSurveys: [
    "استطلاع", "استطلاعات", "الاستطلاع", "الاستطلاعات", "استبيان", "استبيانات",
    "survey", "surveys", "poll", "polls", "join surveys",
    "istitla3", "istitla3at", "estitla3", "estitla3at", "isti6la3", "istetla3", "istitla", "estebyan",
  ],
  /** Leave surveys only: STOP still silences everything. */
  leaveSurveys: [
    "stop surveys", "stop survey", "no surveys", "no more surveys", "unsubscribe surveys", "leave surveys",
    "لا استطلاعات", "بلا استطلاعات", "بدون استطلاعات", "وقف الاستطلاعات", "وقف الاستطلاع", "الغاء الاستطلاعات", "ما بدي استطلاعات",
    "bala istitla3at", "bala istitla3", "la istitla3at", "wa2if istitla3at", "ma baddi istitla3at", "bala estitla3at",
  ],
  /** Skip one survey question (plain "no" is an answer there, so it is not one of these). */
  surveySkip: ["skip", "next", "pass", "تخطي", "تخطى", "تجاوز", "التالي", "سكيب", "skip it", "t5ati", "takhatti", "ta5ata"],
  skip: ["skip", "no photo", "لا", "بلا", "تخطي", "تخطى", "ما في", "ma fi", "mafi", "la", "la2", "no"],
} as const;

/** Phrases that may appear anywhere in a longer message. */
export const PHRASES = {
  human: [
    "موظف", "موظفه", "حدا من البلديه", "شخص حقيقي", "احكي مع", "بدي احكي", "اتكلم مع", "تكلم مع", "مع انسان",
    "talk to", "speak to", "speak with", "talk with", "a person", "a human", "real person",
    "e7ke ma3", "ehke ma3", "e7ki ma3", "mwazzaf", "mwazaf", "mowazaf", "7ada men el baladiye",
  ],
  status: [
    "status", "track", "my request", "my requests", "my complaint", "my complaints", "what happened", "any update", "update on",
    "حاله الطلب", "حاله طلبي", "شو صار", "وين صار", "طلبي", "طلباتي", "شكوتي", "شكاويي", "متابعه الطلب",
    "shu sar", "chou sar", "sho sar", "wen sar", "shu seret", "talabi", "shakwti", "metabaa",
  ],
  balance: [
    "balance", "how much do i owe", "what do i owe", "my bill", "fees", "رصيد", "رصيدي", "قديش علي", "قديش عليي", "كم علي",
    "رسوم", "فاتوره", "المستحقات", "ade 3layye", "ade 3alay", "2ade 3layye", "adesh 3layye", "kam 3layye", "rasid",
  ],
  /** "How do I pay?" — checked before "balance", whose words ("my bill", "فاتوره") it may contain. */
  howToPay: [
    "how do i pay", "how to pay", "how can i pay", "where do i pay", "where to pay", "where can i pay", "pay my", "pay the",
    "payment options", "ways to pay", "i want to pay",
    "كيف بدفع", "كيف ادفع", "وين بدفع", "وين ادفع", "كيف فيني ادفع", "وين فيني ادفع", "بدي ادفع", "طرق الدفع", "طريقه الدفع", "كيفيه الدفع",
    "kif bedfa3", "kif edfa3", "kif fiye edfa3", "wen bedfa3", "wein bedfa3", "wen edfa3", "baddi edfa3", "bade edfa3", "bedde edfa3",
  ],
  /** "I paid": report a payment made elsewhere. Checked before "howToPay" and "balance". */
  reportPayment: [
    "i paid", "i have paid", "i've paid", "already paid", "paid", "report a payment", "report payment", "payment made", "made a payment",
    "دفعت", "سددت", "دفعنا", "سددنا", "بلغ عن دفعه", "تبليغ عن دفعه",
    "dafa3t", "dfa3t", "dafa3et", "sadadt", "dafa3na",
  ],
  /** Link one more account to this phone (a first one is offered whenever it is needed). */
  linkAccount: [
    "link account", "link an account", "link another account", "link my account", "add account", "add an account", "another account",
    "ربط حساب", "اربط حساب", "اربط حسابي", "ربط حسابي", "اضافه حساب", "ضيف حساب", "زيد حساب", "حساب تاني", "حساب ثاني", "حساب اخر",
    "rbot 7sab", "orbot 7sab", "zid 7sab", "dif 7sab", "7sab tene", "hsab tene",
  ],
  statement: [
    "statement", "account history", "transactions", "my payments",
    "كشف حساب", "كشف الحساب", "كشف", "حركات الحساب", "حركه الحساب",
    "kashf", "kachf", "kashf 7sab", "kashf hsab",
  ],
  newRequest: [
    "شكوي", "شكوه", "اشتكي", "قدم", "تقديم", "طلب", "مشكله", "بلاغ", "ابلاغ", "عطل",
    "report", "complaint", "complain", "problem", "issue", "request", "broken", "not working",
    "shakwa", "chakwa", "ishtiki", "2adem", "adem", "mechkle", "mochkle", "moshkle", "mechkel", "talab", "3otol",
  ],
  greeting: [
    "مرحبا", "مرحبتين", "السلام عليكم", "سلام", "اهلا", "اهلين", "هلا", "صباح الخير", "مسا الخير", "مساء الخير", "كيفك",
    "hi", "hello", "hey", "good morning", "good evening", "bonjour", "bonsoir", "salut", "allo",
    "marhaba", "mar7aba", "kifak", "kifik", "kifkon", "ahla", "ahlan", "hala", "salam", "sabah el kheir", "msa el kheir",
  ],
  /** Words that tell a request concerns children, whatever its category. */
  children: [
    "مدرسه", "مدارس", "ولاد", "اولاد", "اطفال", "طفل", "ولد", "صغار", "تلاميذ", "روضه", "حضانه", "ملعب",
    "school", "schools", "kids", "children", "child", "pupils", "students", "kindergarten", "nursery", "playground",
    "madrase", "madrasa", "wled", "wlad", "awled", "atfal", "t2fal", "zghar",
  ],
} as const;

/** Numbers residents spell out in answers ("خمسة", "khamse", "five"), 0-10. */
export const NUMBER_WORDS: Readonly<Record<string, number>> = {
  "صفر": 0, "sifr": 0, "zero": 0,
  "واحد": 1, "وحده": 1, "wa7ad": 1, "wahad": 1, "one": 1,
  "اثنين": 2, "اتنين": 2, "تنين": 2, "ثنين": 2, "tnein": 2, "tnen": 2, "tnayn": 2, "two": 2,
  "ثلاثه": 3, "تلاته": 3, "تلات": 3, "ثلاث": 3, "tlete": 3, "tleteh": 3, "tlate": 3, "three": 3,
  "اربعه": 4, "اربع": 4, "arba3a": 4, "arba3": 4, "four": 4,
  "خمسه": 5, "خمس": 5, "khamse": 5, "5amse": 5, "khamsa": 5, "five": 5,
  "سته": 6, "ست": 6, "sette": 6, "sitte": 6, "six": 6,
  "سبعه": 7, "سبع": 7, "sab3a": 7, "sab3": 7, "seven": 7,
  "ثمانيه": 8, "تمانيه": 8, "تمنه": 8, "تمن": 8, "tmene": 8, "tamanye": 8, "eight": 8,
  "تسعه": 9, "تسع": 9, "tis3a": 9, "tes3a": 9, "nine": 9,
  "عشره": 10, "عشر": 10, "3ashra": 10, "ashra": 10, "ten": 10,
};
