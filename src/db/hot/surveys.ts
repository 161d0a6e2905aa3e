import { z } from "zod";
import { StoredSurveyQuestionSchema, type SurveyQuestion, type SurveyView } from "../../conversation/types.js";
import type { HotQ } from "./connect.js";

/**
 * The survey side of one inbound message: what the bot reads of the resident's invitation and the
 * writes its answers make. Only residents inside a survey (or joining, leaving) reach these, so
 * they are plain queries, not prepared ones.
 */

const QuestionsSchema = z.array(StoredSurveyQuestionSchema);
const StoredText = z.object({ ar: z.string(), en: z.string() });

/** A run's questions as stored (validated when the survey was saved; re-checked here all the same). */
export function parseStoredQuestions(json: string): SurveyQuestion[] {
  const parsed = QuestionsSchema.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : [];
}

/** A survey title or intro as stored: {"ar","en"}. */
export function parseStoredText(json: string | null): { ar: string; en: string } | null {
  if (!json) return null;
  const parsed = StoredText.safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : null;
}

const invitationView = (q: HotQ) =>
  q
    .selectFrom("SurveyInvitation as i")
    .innerJoin("SurveyRun as r", "r.id", "i.runId")
    .innerJoin("Survey as s", "s.id", "r.surveyId")
    .select(["i.id", "i.nextQuestion", "i.status", "i.completedAt", "r.questions", "r.status as runStatus", "r.closesAt", "s.title"]);

type InvitationRow = { id: number; nextQuestion: number; status: string; completedAt: Date | null; questions: string; runStatus: string; closesAt: Date; title: string };

function toView(row: InvitationRow, now: Date): SurveyView {
  return {
    invitationId: row.id,
    title: parseStoredText(row.title) ?? { ar: "", en: "" },
    questions: parseStoredQuestions(row.questions),
    nextQuestion: row.nextQuestion,
    open: row.runStatus === "open" && new Date(row.closesAt).getTime() > now.getTime() && row.completedAt === null,
  };
}

/** One of this resident's invitations; null for anyone else's. */
export async function surveyOfResident(q: HotQ, residentId: number, invitationId: number, now: Date): Promise<SurveyView | null> {
  const row = await invitationView(q).where("i.id", "=", invitationId).where("i.residentId", "=", residentId).executeTakeFirst();
  return row ? toView(row, now) : null;
}

/** The resident's latest invitation that went out, is not finished, and whose run still takes answers. */
export async function unfinishedSurveyOf(q: HotQ, residentId: number, now: Date): Promise<SurveyView | null> {
  const row = await invitationView(q)
    .where("i.residentId", "=", residentId)
    .where("i.status", "=", "sent")
    .where("i.completedAt", "is", null)
    .where("i.reason", "is", null)
    .where("r.status", "=", "open")
    .where("r.closesAt", ">", now)
    .orderBy("i.id", "desc")
    .executeTakeFirst();
  return row ? toView(row, now) : null;
}

/** Stores an answer (null: skipped) and moves the invitation on; the last answer completes it. */
export async function recordSurveyAnswer(q: HotQ, a: { municipalityId: string; invitationId: number; question: number; value: string | null; next: number; now: Date }) {
  await q
    .insertInto("SurveyAnswer")
    .values({ municipalityId: a.municipalityId, invitationId: a.invitationId, questionIndex: a.question, value: a.value, createdAt: a.now })
    // The same question answered again (resumed from an older question): the latest answer counts.
    .onConflict((oc) => oc.columns(["invitationId", "questionIndex"]).doUpdateSet({ value: a.value, createdAt: a.now }))
    .execute();
  const invitation = await q.selectFrom("SurveyInvitation as i").innerJoin("SurveyRun as r", "r.id", "i.runId").select(["r.questions", "i.startedAt"]).where("i.id", "=", a.invitationId).executeTakeFirstOrThrow();
  const total = parseStoredQuestions(invitation.questions).length;
  await q
    .updateTable("SurveyInvitation")
    .set({
      nextQuestion: a.next,
      startedAt: invitation.startedAt ?? a.now,
      completedAt: a.next >= total ? a.now : null,
      pausedAt: null,
      updatedAt: a.now,
    })
    .where("id", "=", a.invitationId)
    .execute();
}

export async function pauseSurvey(q: HotQ, invitationId: number, now: Date) {
  await q.updateTable("SurveyInvitation").set({ pausedAt: now, updatedAt: now }).where("id", "=", invitationId).where("completedAt", "is", null).execute();
}

export async function declineSurvey(q: HotQ, invitationId: number, now: Date) {
  await q.updateTable("SurveyInvitation").set({ reason: "declined", pausedAt: null, updatedAt: now }).where("id", "=", invitationId).execute();
}

export async function resumeSurvey(q: HotQ, invitationId: number, now: Date) {
  await q.updateTable("SurveyInvitation").set({ pausedAt: null, resumedAt: now, updatedAt: now }).where("id", "=", invitationId).execute();
}

/** Joins surveys (a keyword or the offer); a resident who had left is back in. */
export async function joinSurveys(q: HotQ, residentId: number, source: string, now: Date) {
  await q.updateTable("Resident").set({ surveyJoinedAt: now, surveySource: source, surveyLeftAt: null, updatedAt: now }).where("id", "=", residentId).execute();
}

/** Leaves surveys only. Invitations not yet sent to them are never sent (the sender checks). */
export async function leaveSurveys(q: HotQ, residentId: number, now: Date) {
  await q.updateTable("Resident").set({ surveyLeftAt: now, updatedAt: now }).where("id", "=", residentId).execute();
}

export async function markSurveyOffered(q: HotQ, residentId: number, now: Date) {
  await q.updateTable("Resident").set({ surveyOfferedAt: now, updatedAt: now }).where("id", "=", residentId).execute();
}

/** The resident's neighbourhood, and the area this invitation is counted under in its run's results. */
export async function setResidentArea(q: HotQ, residentId: number, invitationId: number, area: string, now: Date) {
  await q.updateTable("Resident").set({ area, updatedAt: now }).where("id", "=", residentId).execute();
  await q.updateTable("SurveyInvitation").set({ area, updatedAt: now }).where("id", "=", invitationId).where("residentId", "=", residentId).execute();
}

/** Joined and not left since. */
export const hasJoinedSurveys = (r: { surveyJoinedAt: Date | null; surveyLeftAt: Date | null }) => r.surveyJoinedAt !== null && r.surveyLeftAt === null;
