import { splitMedia } from "../media.js";
import { shouldOfferSurveys } from "./survey.js";
import { assertNever } from "../../lib/assertNever.js";
import type { StepResult } from "../result.js";
import { initialState, type Draft, type Step } from "../state.js";
import { atMenu, categoryName, done, draftFrom, hasWords, MAIN_MENU, said, strike, type Turn } from "../turn.js";
import type { CategoryView, NewTicket, Reply, TextRef } from "../types.js";

type IntakeStep = Extract<Step, "category" | "confirmCategory" | "description" | "location" | "photo" | "confirm">;

// SMS costs money per segment: echo back only the start of what the resident wrote.
const SMS_ECHO = 40;
const RICH_ECHO = 300;
const MAX_DESCRIPTION = 2000;

/** The next question a draft needs answered, given what the channel can carry. */
function nextStep(turn: Turn, draft: Draft, categories: readonly CategoryView[]): IntakeStep {
  const category = categories.find((c) => c.code === draft.categoryCode);
  if (!category) return "category";
  if (!draft.description) return "description";
  if (category.needsLocation && !draft.location && !draft.addressText) return "location";
  if (turn.ctx.capabilities.media && splitMedia(draft.media).images.length === 0 && !draft.photoAsked) return "photo";
  return "confirm";
}

/** Moves a request on to its next unanswered question, optionally after some `lead` replies. */
export async function advanceIntake(turn: Turn, draft: Draft, lead: Reply[] = []): Promise<StepResult> {
  const next = nextStep(turn, draft, await turn.ctx.lookups.categories());
  const updated = next === "photo" ? { ...draft, photoAsked: true } : draft;
  return done(turn, { ...initialState(), step: next, draft: updated }, [...lead, await promptFor(turn, next, updated)]);
}

/** The start of what the resident wrote, cut between whole characters (never inside an emoji). */
function echo(turn: Turn, text: string, limit: number): string {
  const max = turn.ctx.capabilities.maxSegments === null ? RICH_ECHO : limit;
  const characters = Array.from(text.replace(/\s+/g, " ").trim());
  return characters.length <= max ? characters.join("") : `${characters.slice(0, max - 3).join("").trimEnd()}...`;
}

function where(turn: Turn, draft: Draft): TextRef {
  if (draft.location) {
    const place = draft.location.label ?? draft.location.address;
    return place ? { $t: "intake.wherePinNamed", params: { place: echo(turn, place, 30) } } : { $t: "intake.wherePin" };
  }
  if (draft.addressText) return { $t: "intake.whereText", params: { place: echo(turn, draft.addressText, 30) } };
  return { $t: "intake.whereNone" };
}

/** The question for a step of the request, in channel-appropriate words. */
export async function promptFor(turn: Turn, step: IntakeStep, draft: Draft): Promise<Reply> {
  switch (step) {
    case "category": {
      const categories = await turn.ctx.lookups.categories();
      return { key: "intake.chooseCategory", params: { choices: { options: categories.map((c, i) => ({ n: i + 1, label: c.name })) } } };
    }
    case "confirmCategory":
      return { key: "intake.confirmCategory", params: { category: await categoryName(turn, draft.categoryCode) } };
    case "description":
      return { key: "intake.askDescription", params: { category: await categoryName(turn, draft.categoryCode) } };
    case "location":
      return { key: "intake.askLocation" };
    case "photo":
      return { key: "intake.askPhoto" };
    case "confirm":
      return {
        key: "intake.confirm",
        params: {
          category: await categoryName(turn, draft.categoryCode),
          description: echo(turn, draft.description ?? "", SMS_ECHO),
          where: where(turn, draft),
        },
      };
    default:
      return assertNever(step);
  }
}


/** The resident answers the question asked at `step`. */
export async function intakeAnswer(turn: Turn, step: IntakeStep): Promise<StepResult> {
  const { u, event } = turn;
  const draft = draftFrom(turn, turn.state.draft);
  const { images, unsupported } = splitMedia(event.media);
  // A voice note is kept for staff but answers nothing; it is not held against the resident either.
  const brought = images.length > 0 || unsupported.length > 0 || event.location !== undefined;
  const received: Reply[] =
    images.length > 0 ? [{ key: "intake.photoReceived" }] : event.location ? [{ key: "intake.locationReceived" }] : [];
  // A photo or a pin sent at the wrong moment is kept; the question is asked again without a strike.
  const keepAndAskAgain = async () =>
    done(turn, { ...turn.state, draft }, [...received, await promptFor(turn, step, draft)]);

  switch (step) {
    case "category": {
      const categories = await turn.ctx.lookups.categories();
      const chosen = u.choice !== null ? categories[u.choice - 1] : categories.find((c) => c.code === u.categoryCode);
      if (chosen) {
        draft.categoryCode = chosen.code;
        if (u.choice === null && !draft.description && u.normalized.split(" ").length >= 3) draft.description = event.text.trim();
        return advanceIntake(turn, draft);
      }
      if (brought && !hasWords(turn)) return keepAndAskAgain();
      return strike(turn, [{ key: "retry.number", params: { max: categories.length } }], draft);
    }
    case "confirmCategory":
      if (said(turn, "yes")) return advanceIntake(turn, draft);
      if (said(turn, "no")) {
        const { categoryCode: _dropped, ...withoutCategory } = draft;
        return advanceIntake(turn, withoutCategory);
      }
      if (brought && !hasWords(turn)) return keepAndAskAgain();
      return strike(turn, [{ key: "retry.yesNo" }], draft);
    case "description":
      if (hasWords(turn)) return advanceIntake(turn, { ...draft, description: event.text.trim().slice(0, MAX_DESCRIPTION) });
      if (brought) return keepAndAskAgain();
      return strike(turn, [{ key: "retry.description" }], draft);
    case "location":
      if (event.location) return advanceIntake(turn, draft, received);
      if (hasWords(turn)) return advanceIntake(turn, { ...draft, addressText: event.text.trim().slice(0, 500) });
      if (brought) return keepAndAskAgain();
      return strike(turn, [{ key: "retry.location" }], draft);
    case "photo":
      if (images.length > 0) return advanceIntake(turn, draft, received);
      if (brought && !hasWords(turn)) return keepAndAskAgain();
      if (said(turn, "skip") || said(turn, "yes") || u.choice === 1) return advanceIntake(turn, draft);
      return strike(turn, [{ key: "retry.photo" }], draft);
    case "confirm":
      if (said(turn, "yes")) return fileRequest(turn, draft, false);
      if (said(turn, "no")) return done(turn, atMenu(), [{ key: "intake.cancelled" }, MAIN_MENU]);
      if (brought && !hasWords(turn)) return keepAndAskAgain();
      return strike(turn, [{ key: "retry.confirm" }], draft);
    default:
      return assertNever(step);
  }
}

/** Files the draft as a ticket and tells the resident its reference. */
export async function fileRequest(turn: Turn, draft: Draft, needsHuman: boolean): Promise<StepResult> {
  const reference = await turn.ctx.lookups.freeReference();
  const category = (await turn.ctx.lookups.categories()).find((c) => c.code === draft.categoryCode);
  const ticket: NewTicket = {
    reference,
    categoryCode: category?.code ?? null,
    description: draft.description ?? (hasWords(turn) ? turn.event.text.trim() : ""),
    location: draft.location ?? null,
    // A WhatsApp pin of a place has a name (its label) and an address: the address is the ticket's
    // address text unless the resident typed one.
    addressText: draft.addressText ?? draft.location?.address ?? null,
    media: draft.media,
    childRelated: draft.childRelated || (category?.childRelated ?? false),
    needsHuman,
    startedAt: draft.startedAt ? new Date(draft.startedAt) : turn.ctx.now,
  };
  const filed: Reply = { key: needsHuman ? "human.filed" : "intake.filed", params: { reference } };
  // The one-time offer to join surveys rides on the confirmation (one SMS, not two).
  if (shouldOfferSurveys(turn)) {
    return done(turn, { ...initialState(), step: "surveyOffer" }, [filed, { key: "survey.offer" }], [{ type: "fileTicket", ticket }, { type: "surveyOffered" }]);
  }
  return done(turn, initialState(), [filed], [{ type: "fileTicket", ticket }]);
}
