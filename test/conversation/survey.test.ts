import { describe, expect, it } from "vitest";
import { surveyState } from "../../src/conversation/state.js";
import type { SurveyQuestion } from "../../src/conversation/types.js";
import { engineChat } from "../support/engineChat.js";
import type { FakeSurvey } from "../support/fakeLookups.js";

const WASTE: SurveyQuestion[] = [
  { type: "rating", text: { ar: "ما مدى رضاك عن جمع النفايات هذا الشهر؟", en: "How satisfied are you with waste collection this month?" }, options: [], min: 1, max: 5, area: false },
  { type: "yesno", text: { ar: "هل لدى أولادك مكان آمن للعب قرب البيت؟", en: "Do your children have a safe place to play near home?" }, options: [], area: false },
  {
    type: "choice",
    text: { ar: "في أي حي تسكن؟", en: "Which area do you live in?" },
    options: [
      { ar: "قب الياس", en: "Qab Elias" },
      { ar: "وادي الدلم", en: "Wadi al-Delm" },
    ],
    area: true,
  },
  { type: "text", text: { ar: "ما الذي يجب أن تصلحه البلدية أولاً؟", en: "What should the municipality fix first?" }, options: [], area: false },
];

/** A resident who just received the invitation with the first question (the job put them at question 0). */
function invited(options: Parameters<typeof engineChat>[0] = {}, survey: Partial<FakeSurvey> = {}) {
  const chat = engineChat({ locale: "ar", joinedSurveys: true, ...options });
  chat.lookups.surveys.push({
    invitationId: 7,
    title: { ar: "رضا السكان عن جمع النفايات", en: "Waste collection satisfaction" },
    questions: WASTE,
    nextQuestion: 0,
    open: true,
    answers: new Map(),
    paused: false,
    ...survey,
  });
  chat.state = surveyState(7, 0);
  return { chat, survey: chat.lookups.surveys[0]! };
}

describe("answering a survey inside the conversation", () => {
  it("an Arabic resident answers every question with Eastern digits and words, and is thanked", async () => {
    const { chat, survey } = invited();
    const second = await chat.say("٤");
    expect(second.text).toBe("2/4 هل لدى أولادك مكان آمن للعب قرب البيت؟\n1 نعم\n2 لا");
    expect((await chat.say("إيه")).text).toContain("3/4 في أي حي تسكن؟\n1 قب الياس\n2 وادي الدلم");
    expect((await chat.say("٢")).text).toBe("4/4 ما الذي يجب أن تصلحه البلدية أولاً؟");
    const last = await chat.say("الحفر على الطريق العام قرب المدرسة");
    expect(last.keys).toEqual(["survey.thanks"]);
    expect(last.state.step).toBe("idle");
    expect([...survey.answers]).toEqual([
      [0, "4"],
      [1, "yes"],
      [2, "2"],
      [3, "الحفر على الطريق العام قرب المدرسة"],
    ]);
    // The area question set the resident's neighbourhood; nothing was filed as a request.
    expect(chat.resident.area).toBe("Wadi al-Delm");
    expect(chat.filed).toEqual([]);
    expect(Math.max(second.segments, last.segments)).toBe(1);
  });

  it.each([
    ["5/5", "5"],
    ["خمسة", "5"],
    ["khamse", "5"],
    ["٣ من ٥", "3"],
    ["4 out of 5", "4"],
    ["five", "5"],
    ["۲", "2"],
  ])("a rating written as '%s' counts as %s", async (text, value) => {
    const { chat, survey } = invited({ locale: "en" });
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["survey.ask"]);
    expect(survey.answers.get(0)).toBe(value);
  });

  it.each([
    ["la2", "no"],
    ["لا", "no"],
    ["2", "no"],
    ["eh akid", "yes"],
    ["نعم", "yes"],
    ["yes", "yes"],
  ])("yes/no written as '%s' counts as %s", async (text, value) => {
    const { chat, survey } = invited({ locale: "en" }, { nextQuestion: 1 });
    chat.state = surveyState(7, 1);
    await chat.say(text);
    expect(survey.answers.get(1)).toBe(value);
  });

  it("an unusable answer is asked once more, then skipped", async () => {
    const { chat, survey } = invited({ locale: "en" });
    const again = await chat.say("hmm maybe");
    expect(again.keys).toEqual(["survey.retry", "survey.ask"]);
    expect(again.text).toBe("Sorry, I could not read that answer.\n1/4 How satisfied are you with waste collection this month?\nReply 1 to 5");
    const skipped = await chat.say("9");
    expect(skipped.keys).toEqual(["survey.ask"]);
    expect(skipped.text.startsWith("2/4 ")).toBe(true);
    expect(survey.answers.get(0)).toBeNull();
  });

  it("'skip' / 'تخطي' skips a question, but plain 'no' answers a yes/no question", async () => {
    const { chat, survey } = invited({ locale: "ar" });
    await chat.say("تخطي");
    expect(survey.answers.get(0)).toBeNull();
    await chat.say("لا");
    expect(survey.answers.get(1)).toBe("no");
    await chat.say("skip");
    expect(survey.answers.get(2)).toBeNull();
    expect(chat.resident.area).toBeNull();
  });

  it("on a 0-10 scale, '0' is an answer, not the menu", async () => {
    const { chat, survey } = invited({}, { questions: [{ ...WASTE[0]!, min: 0, max: 10 }, WASTE[3]!] });
    const turn = await chat.say("٠");
    expect(survey.answers.get(0)).toBe("0");
    expect(turn.keys).toEqual(["survey.askText"]);
  });

  it("a resident who suddenly reports a pothole is not trapped: the survey pauses, the request starts, 'استطلاع' resumes it", async () => {
    const { chat, survey } = invited({ locale: "ar" });
    const pothole = await chat.say("في جورة كبيرة بالطريق العام");
    expect(pothole.keys).toEqual(["survey.paused", "intake.confirmCategory"]);
    expect(pothole.effects).toContainEqual({ type: "pauseSurvey", invitationId: 7 });
    expect(survey.paused).toBe(true);
    expect(pothole.segments).toBeLessThanOrEqual(2);
    // The request goes on as usual.
    expect((await chat.say("1")).keys).toEqual(["intake.askLocation"]);
    await chat.say("الطريق العام قدام الفرن");
    await chat.say("1");
    expect(chat.filed).toHaveLength(1);
    // Back to the survey where it stopped.
    const resumed = await chat.say("استطلاع");
    expect(resumed.keys).toEqual(["survey.resume", "survey.ask"]);
    expect(resumed.text).toContain("1/4 ما مدى رضاك");
    expect(resumed.effects).toContainEqual({ type: "resumeSurvey", invitationId: 7 });
    await chat.say("3");
    expect(survey.answers.get(0)).toBe("3");
  });

  it.each([
    ["status with a reference", "10427", "status.notFound"],
    ["the menu", "0", "menu"],
    ["talking to staff", "بدي احكي مع موظف", "human.filed"],
  ])("%s mid-survey pauses it and does what it says", async (_label, text, key) => {
    const { chat } = invited({ locale: "ar" });
    const turn = await chat.say(text);
    expect(turn.keys[0]).toBe("survey.paused");
    expect(turn.keys).toContain(key);
  });

  it("STOP mid-survey silences everything", async () => {
    const { chat } = invited({ locale: "en" });
    const stop = await chat.say("STOP");
    expect(stop.keys).toEqual(["optOut.done"]);
    expect(stop.effects).toEqual([{ type: "optOut" }]);
    expect((await chat.say("5")).keys).toEqual([]);
  });

  it("'stop surveys' mid-survey leaves surveys only, confirmed once", async () => {
    const { chat, survey } = invited({ locale: "ar" });
    const left = await chat.say("لا استطلاعات");
    expect(left.keys).toEqual(["survey.left"]);
    expect(left.effects).toEqual([{ type: "leaveSurveys" }]);
    expect(survey.answers.size).toBe(0);
    expect((await chat.say("5")).keys).not.toContain("survey.ask");
  });

  it("a free answer that sounds like a request is still the answer", async () => {
    const { chat, survey } = invited({ locale: "en" }, { nextQuestion: 3 });
    chat.state = surveyState(7, 3);
    const turn = await chat.say("the potholes on the main road, and the street lights");
    expect(turn.keys).toEqual(["survey.thanks"]);
    expect(survey.answers.get(3)).toBe("the potholes on the main road, and the street lights");
  });

  it("on a free-answer question, a photo or a question about one's own requests is not taken as the answer", async () => {
    const { chat, survey } = invited({ locale: "en", channel: "whatsapp" }, { nextQuestion: 3 });
    chat.state = surveyState(7, 3);
    const photo = await chat.send({ text: "look at this", media: [{ url: "https://x.test/p.jpg", contentType: "image/jpeg" }] });
    expect(photo.keys[0]).toBe("survey.paused");
    expect(survey.answers.size).toBe(0);
    chat.state = surveyState(7, 3);
    expect((await chat.say("my requests")).keys[0]).toBe("survey.paused");
    expect(survey.answers.size).toBe(0);
  });

  it("days after the run closed, a new request is a new request, not a late answer", async () => {
    const { chat } = invited({ locale: "en" }, { open: false, nextQuestion: 3 });
    chat.state = surveyState(7, 3);
    const turn = await chat.say("the garbage was not collected on our street this week");
    expect(turn.keys).not.toContain("survey.closed");
    expect(turn.keys).toEqual(["intake.confirmCategory"]);
  });

  it("a late answer after the run closed is thanked and not counted", async () => {
    const { chat, survey } = invited({ locale: "en" }, { open: false });
    const late = await chat.say("4");
    expect(late.keys).toEqual(["survey.closed"]);
    expect(late.effects).toEqual([]);
    expect(survey.answers.size).toBe(0);
  });

  it("switching language re-asks the question in the other language", async () => {
    const { chat } = invited({ locale: "ar" });
    const turn = await chat.say("english");
    expect(turn.text).toBe("1/4 How satisfied are you with waste collection this month?\nReply 1 to 5");
    expect(turn.effects).toContainEqual({ type: "setLocale", locale: "en" });
  });

  it("after the WhatsApp template, the resident's reply starts the questions", async () => {
    const { chat } = invited({ locale: "en", channel: "whatsapp" });
    chat.state = surveyState(7, -1);
    const turn = await chat.say("ok");
    expect(turn.keys).toEqual(["survey.ask"]);
    expect(turn.text.startsWith("1/4 How satisfied")).toBe(true);
    expect(turn.state.survey).toEqual({ invitationId: 7, question: 0 });
  });
});

describe("declining a survey invitation sent as the WhatsApp template", () => {
  it.each(["no", "la2", "لا", "2"])("'%s' declines this run: no question follows", async (text) => {
    const { chat } = invited({ locale: "en", channel: "whatsapp" });
    chat.state = surveyState(7, -1);
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["survey.declinedRun"]);
    expect(turn.effects).toEqual([{ type: "declineSurvey", invitationId: 7 }]);
    expect(turn.state.step).toBe("menu");
  });
});

describe("joining and leaving surveys", () => {
  it.each(["استطلاع", "استطلاعات", "surveys", "istitla3", "Survey!"])("'%s' joins", async (text) => {
    const chat = engineChat({ locale: "ar" });
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["survey.joined"]);
    expect(turn.effects).toContainEqual({ type: "joinSurveys", source: "keyword" });
    expect(turn.segments).toBe(1);
  });

  it("joining twice says so, and nothing changes", async () => {
    const chat = engineChat({ locale: "en", joinedSurveys: true });
    const turn = await chat.say("surveys");
    expect(turn.keys).toEqual(["survey.alreadyJoined"]);
    expect(turn.effects).toEqual([]);
  });

  it.each(["stop surveys", "لا استطلاعات", "bala istitla3at"])("'%s' leaves surveys only", async (text) => {
    const chat = engineChat({ locale: "ar", joinedSurveys: true });
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["survey.left"]);
    expect(turn.effects).toEqual([{ type: "leaveSurveys" }]);
    expect(chat.resident.optedOut).toBe(false);
  });

  it("'stop surveys' in the middle of a request confirms and asks the same question again: nothing is lost", async () => {
    const chat = engineChat({ locale: "en", joinedSurveys: true });
    await chat.say("there is a big pothole on the main road");
    await chat.say("1");
    const left = await chat.say("stop surveys");
    expect(left.keys).toEqual(["survey.left", "intake.askLocation"]);
    expect(left.effects).toEqual([{ type: "leaveSurveys" }]);
    await chat.say("main road near the bakery");
    await chat.say("1");
    expect(chat.filed).toHaveLength(1);
  });

  it("after a first request is filed, surveys are offered once; yes joins", async () => {
    const chat = engineChat({ locale: "en", surveyOffer: true });
    await chat.say("there is a big pothole on the main road");
    await chat.say("1");
    await chat.say("main road near the bakery");
    const filed = await chat.say("1");
    expect(filed.keys).toEqual(["intake.filed", "survey.offer"]);
    expect(filed.effects.map((e) => e.type)).toEqual(["fileTicket", "surveyOffered"]);
    expect(filed.segments).toBeLessThanOrEqual(2);
    const yes = await chat.say("1");
    expect(yes.keys).toEqual(["survey.joined"]);
    expect(yes.effects).toContainEqual({ type: "joinSurveys", source: "offer" });
  });

  it("the offer is made once per resident, ever; 'no' declines and other messages are read as usual", async () => {
    const chat = engineChat({ locale: "en", surveyOffer: true });
    await chat.say("there is a big pothole on the main road");
    await chat.say("1");
    await chat.say("main road near the bakery");
    expect((await chat.say("1")).keys).toContain("survey.offer");
    expect((await chat.say("2")).keys).toEqual(["survey.declined"]);
    await chat.say("the street light is broken near the school");
    await chat.say("1");
    await chat.say("school street");
    const second = await chat.say("1");
    expect(second.keys).toEqual(["intake.filed"]);
    expect(chat.resident.surveys).toEqual({ joined: false, offered: true });
  });

  it("the offer is not made when SURVEY_OFFER is off, nor to a resident who joined", async () => {
    for (const options of [{ surveyOffer: false }, { surveyOffer: true, joinedSurveys: true }]) {
      const chat = engineChat({ locale: "en", ...options });
      await chat.say("there is a big pothole on the main road");
      await chat.say("1");
      await chat.say("main road");
      expect((await chat.say("1")).keys).toEqual(["intake.filed"]);
    }
  });

  it("a status question right after the offer is answered, and the offer lapses", async () => {
    const chat = engineChat({ locale: "en", surveyOffer: true });
    await chat.say("there is a big pothole on the main road");
    await chat.say("1");
    await chat.say("main road");
    await chat.say("1");
    const status = await chat.say("my requests");
    expect(status.keys[0]).toMatch(/^status\./);
    expect(status.state.step).not.toBe("surveyOffer");
    expect(chat.resident.surveys.joined).toBe(false);
  });
});
