import { hostname } from "node:os";
import type { i18n } from "i18next";
import type { Logger } from "pino";
import { surveyInvitation, surveyResumption } from "../conversation/flows/survey.js";
import { expireStaleDraft, isAtRest, parseState, STATE_VERSION, surveyState, type ConversationState } from "../conversation/state.js";
import { LOCALES, type ChannelKind, type Locale } from "../conversation/types.js";
import type { Db, Tx } from "../db/createDb.js";
import { parseStoredQuestions, parseStoredText } from "../db/hot/surveys.js";
import { render } from "../i18n/render.js";
import { maskPhone } from "../lib/maskPhone.js";
import { withLease } from "../services/jobLease.js";
import { addressOn, bulkChannelFor, deliveryDeadline, enqueueOutbound, hasReplyWindow, routeFor, smsReaches, whatsappWindowOpen, type OutboxContext } from "../services/outbox.js";
import { closeDueRuns, startDueRuns } from "../services/surveys/runs.js";
import { beirutHour, isQuietHour } from "./sendReminders.js";

export interface RunSurveysDeps {
  db: Db;
  /** Which database: on PostgreSQL each invitation takes the resident's advisory lock, as the inbox does. */
  dialect: "sqlite" | "postgres";
  municipalityId: string;
  i18n: i18n;
  outbox: Omit<OutboxContext, "now">;
  /** SURVEY_SMS_PER_MINUTE: SMS invitations one run may queue a minute. */
  smsPerMinute: number;
  /** SURVEY_WHATSAPP_PER_SECOND: WhatsApp invitations one run may queue a second. */
  whatsappPerSecond: number;
  /**
   * Invitations through the town's own WhatsApp phone (WHATSAPP_WEB_BULK) a minute: a share of the
   * phone's pace, so that residents' conversations are not queued behind a survey (default 10:
   * half of WHATSAPP_WEB_PER_MINUTE's default).
   */
  whatsappWebPerMinute?: number;
  /** TWILIO_WHATSAPP_SURVEY_TEMPLATE_SID: the approved invitation for a closed 24-hour window; unset, such residents are unreachable. */
  whatsappSurveyTemplateSid?: string | undefined;
  logger: Logger;
  /** Who runs the job, for the lease (default: host name and process id). */
  holder?: string;
}

/** What the work of one call came to. */
export interface SurveyWork {
  runsStarted: number;
  runsClosed: number;
  /** Invitations queued (the text, or the WhatsApp template). */
  sent: number;
  /** Of those, WhatsApp templates (the window was closed). */
  viaTemplate: number;
  /** Left pending: the resident is in the middle of something; they are invited once back at rest. */
  deferred: number;
  /**
   * WhatsApp window closed and no template configured; or their WhatsApp is the town's own phone
   * without WHATSAPP_WEB_BULK and no SMS reaches them; or no SMS reaches them at all.
   */
  unreachable: number;
  /** Opted out or left surveys since the run started. */
  skipped: number;
  /** Failed with an error (logged); left pending and tried again next time. */
  failed: number;
  /** Surveys a resident paused mid-way (to report something, to ask about a request) picked up again. */
  resumed: number;
}

export type SurveyJobRun =
  /** Another instance is running the job right now. */
  | { status: "busy" }
  /** Runs were started and closed, but no invitation goes out between 21:00 and 08:00 in Beirut. */
  | ({ status: "quiet_hours"; beirutHour: number } & Pick<SurveyWork, "runsStarted" | "runsClosed">)
  | ({ status: "ran" } & SurveyWork);

const LEASE = "run-surveys";
const LEASE_TTL_MS = 5 * 60_000;
const MINUTE_MS = 60_000;
const PAGE = 100;

/**
 * The same lock, with the same SQL and key, as the inbox takes for one resident's message
 * (ADVISORY_LOCK_SQL and lockUntilCommit in src/db/hot/inbox.ts; kept identical here). An
 * invitation and an inbound message of one resident therefore never run at once on PostgreSQL;
 * on SQLite transactions are serialised anyway.
 */
const ADVISORY_LOCK_SQL = "SELECT 1 FROM pg_advisory_xact_lock(hashtext($1))";
export const residentLockKey = (municipalityId: string, phone: string) => `${municipalityId}:${phone}`;

/**
 * The survey job, every minute: starts the runs whose time has come, closes those past their
 * expiry, then sends pending invitations of open runs — paced per channel, never between 21:00
 * and 08:00 Beirut time (a run stopped at 21:00 carries on at 08:00 where it left off), never to
 * a resident in the middle of a request (they wait), never twice (each invitation is a
 * compare-and-set on "pending" in the same transaction as its outbox row and conversation
 * state). Invitations are bulk: a resident whose WhatsApp is the town's own phone (whatsapp-web)
 * is invited there only with WHATSAPP_WEB_BULK (then with no 24-hour rule), otherwise by SMS (within
 * the SMS pace) when an SMS reaches them, else not at all ("unreachable"). Runs under the
 * "run-surveys" lease: of several instances, one works at a time.
 */
export async function runSurveys(deps: RunSurveysDeps, now: Date): Promise<SurveyJobRun> {
  const leased = await withLease(deps.db, LEASE, deps.holder ?? `${hostname()}:${process.pid}`, LEASE_TTL_MS, now, async (): Promise<SurveyJobRun> => {
    const started = await startDueRuns(deps.db, deps.municipalityId, now);
    for (const run of started) deps.logger.info({ surveyId: run.surveyId, runId: run.runId, number: run.number, invitations: run.invitations, nextRunAt: run.nextRunAt }, "survey run started");
    const closed = await closeDueRuns(deps.db, deps.municipalityId, now);
    for (const run of closed) deps.logger.info({ surveyId: run.surveyId, runId: run.runId, expired: run.expired }, "survey run closed");
    const hour = beirutHour(now);
    if (isQuietHour(hour)) return { status: "quiet_hours", beirutHour: hour, runsStarted: started.length, runsClosed: closed.length };
    const work = await sendInvitations(deps, now);
    work.resumed = await resumePausedSurveys(deps, now);
    return { status: "ran", ...work, runsStarted: started.length, runsClosed: closed.length };
  });
  return leased.acquired ? leased.value : { status: "busy" };
}

/**
 * Sends what each open run of a scheduled survey may send now. Exported for tests that play a
 * second worker whose lease ran out: the compare-and-set still lets each invitation go once.
 */
export async function sendInvitations(deps: RunSurveysDeps, now: Date): Promise<SurveyWork> {
  const work: SurveyWork = { runsStarted: 0, runsClosed: 0, sent: 0, viaTemplate: 0, deferred: 0, unreachable: 0, skipped: 0, failed: 0, resumed: 0 };
  const runs = await deps.db.surveyRun.findMany({
    where: { municipalityId: deps.municipalityId, status: "open", closesAt: { gt: now }, survey: { status: "scheduled" } },
    include: { survey: { select: { id: true, title: true, intro: true } } },
    orderBy: { id: "asc" },
  });
  for (const run of runs) {
    const waiting = await deps.db.surveyInvitation.groupBy({ by: ["channel"], where: { runId: run.id, status: "pending" }, _count: { _all: true } });
    const pendingOn = (channel: ChannelKind) => waiting.some((w) => w.channel === channel && w._count._all > 0);
    if (!pendingOn("sms") && !pendingOn("whatsapp")) continue;
    // The pace: a minute's worth for the first batch, then what the time since the last batch allows (a minute at most).
    const elapsed = run.lastBatchAt ? Math.min(Math.max(now.getTime() - run.lastBatchAt.getTime(), 0), MINUTE_MS) : MINUTE_MS;
    const budget: Record<ChannelKind, number> = {
      // Also when only WhatsApp invitations wait: some of them may go by SMS instead (whatsapp-web without bulk).
      sms: Math.floor((deps.smsPerMinute * elapsed) / MINUTE_MS),
      whatsapp: pendingOn("whatsapp") ? Math.floor((deps.whatsappPerSecond * elapsed) / 1000) : 0,
    };
    // Called again too soon for a single message on a channel that has some waiting: keep the time for the next call.
    if ((pendingOn("sms") ? budget.sms : 0) === 0 && budget.whatsapp === 0) continue;
    let ownPhoneLeft = Math.floor(((deps.whatsappWebPerMinute ?? 10) * elapsed) / MINUTE_MS);
    const survey = {
      title: parseStoredText(run.survey.title) ?? { ar: "", en: "" },
      intro: parseStoredText(run.survey.intro),
      questions: parseStoredQuestions(run.questions),
    };
    if (survey.questions.length === 0) continue;
    for (const channel of ["sms", "whatsapp"] as const) {
      let cursor = 0;
      while (budget[channel] > 0) {
        const page = await deps.db.surveyInvitation.findMany({
          where: { runId: run.id, channel, status: "pending", id: { gt: cursor } },
          select: { id: true },
          orderBy: { id: "asc" },
          take: PAGE,
        });
        for (const { id } of page) {
          if (budget[channel] <= 0) break;
          cursor = id;
          let outcome: Outcome;
          try {
            outcome = await inviteOnce(deps, now, id, survey, { smsLeft: budget.sms > 0, ownPhoneLeft: ownPhoneLeft > 0 });
          } catch (error) {
            // Nothing of this invitation was written: it stays pending and is tried again next time.
            deps.logger.error({ err: error, invitationId: id, runId: run.id }, "survey invitation failed");
            work.failed++;
            continue;
          }
          if (outcome.kind === "sent" || outcome.kind === "template") {
            budget[outcome.channel]--;
            if (outcome.ownPhone) ownPhoneLeft--;
            // An invitation moved to SMS still counts against its own channel's pace: the walk through the pending ones ends.
            if (outcome.channel !== channel) budget[channel]--;
            work.sent++;
            if (outcome.kind === "template") work.viaTemplate++;
          } else if (outcome.kind === "deferred") {
            work.deferred++;
            // Waiting for the SMS pace: counted too, so that the SMS budget running out does not walk every pending invitation.
            if (outcome.reason === "sms_pace" || outcome.reason === "own_phone_pace") budget[channel]--;
          } else if (outcome.kind === "unreachable") work.unreachable++;
          else if (outcome.kind === "skipped") work.skipped++;
          if (outcome.kind !== "gone") {
            // A deferred resident is looked at every minute: only on debug.
            deps.logger[outcome.kind === "deferred" ? "debug" : "info"]({ invitationId: id, runId: run.id, to: maskPhone(outcome.phone), channel, outcome: outcome.kind, ...(outcome.reason ? { reason: outcome.reason } : {}) }, "survey invitation");
          }
        }
        if (page.length < PAGE) break;
      }
    }
    await deps.db.surveyRun.update({ where: { id: run.id }, data: { lastBatchAt: now, updatedAt: now } });
  }
  return work;
}

type Outcome =
  /** `channel`: the one it went by (an invitation for WhatsApp may go by SMS: see `inviteOnce`). */
  | { kind: "sent" | "template"; phone: string; channel: ChannelKind; ownPhone?: boolean; reason?: undefined }
  /**
   * "sms_pace": it would go by SMS instead of WhatsApp, and this call's SMS are spent;
   * "own_phone_pace": it would go through the town's own phone, and this call's share of it is spent.
   */
  | { kind: "deferred"; phone: string; reason?: "sms_pace" | "own_phone_pace" }
  | { kind: "unreachable" | "skipped"; phone: string; reason: string }
  /** No longer pending (another worker got there first, or the run ended): nothing done. */
  | { kind: "gone"; phone?: undefined; reason?: undefined };

interface RunSurvey {
  title: { ar: string; en: string };
  intro: { ar: string; en: string } | null;
  questions: ReturnType<typeof parseStoredQuestions>;
}

/**
 * One invitation, in one transaction: whatever it comes to (queued with the conversation now at
 * the survey, skipped, unreachable) is a compare-and-set on "pending", so after a crash either all
 * of it happened or none, and two workers never both send it. An invitation for WhatsApp that goes
 * by SMS (the town's own phone without WHATSAPP_WEB_BULK) records the channel it went by, which the
 * results' breakdown and a resumption use; it waits when `smsLeft` is false.
 */
async function inviteOnce(deps: RunSurveysDeps, now: Date, invitationId: number, survey: RunSurvey, pace: { smsLeft: boolean; ownPhoneLeft: boolean }): Promise<Outcome> {
  return deps.db.$transaction(async (tx) => {
    const first = await tx.surveyInvitation.findUnique({ where: { id: invitationId }, select: { residentId: true } });
    if (!first) return { kind: "gone" };
    const who = await tx.resident.findUnique({ where: { id: first.residentId }, select: { phone: true } });
    if (!who) return { kind: "gone" };
    if (deps.dialect === "postgres") await tx.$queryRawUnsafe(ADVISORY_LOCK_SQL, residentLockKey(deps.municipalityId, who.phone));
    // Read again under the lock: the inbox may have changed the resident or their conversation meanwhile.
    const invitation = await tx.surveyInvitation.findUnique({ where: { id: invitationId }, include: { run: { select: { status: true, closesAt: true, survey: { select: { status: true } } } } } });
    // Re-read under the lock: staff may have paused or cancelled the survey since this batch began.
    if (!invitation || invitation.status !== "pending" || invitation.run.status !== "open" || invitation.run.closesAt.getTime() <= now.getTime()) return { kind: "gone" };
    if (invitation.run.survey.status !== "scheduled") return { kind: "gone" };
    const resident = await tx.resident.findUniqueOrThrow({ where: { id: invitation.residentId }, include: { identities: { select: { channel: true, route: true, lastInboundAt: true } } } });
    const phone = resident.phone;
    const settle = async (status: "skipped" | "unreachable", reason: string): Promise<Outcome> => {
      const { count } = await tx.surveyInvitation.updateMany({ where: { id: invitationId, status: "pending" }, data: { status, reason, updatedAt: now } });
      return count === 0 ? { kind: "gone" } : { kind: status, phone, reason };
    };
    if (resident.optedOut) return settle("skipped", "opted_out");
    if (resident.surveyLeftAt !== null || resident.surveyJoinedAt === null) return settle("skipped", "left");

    // The bot is paused for this phone (a flood, an autoresponder loop): a survey would feed it. It
    // waits until the pause lifts, like a resident in the middle of something.
    if (resident.botPausedAt !== null) return { kind: "deferred", phone };

    const conversation = await tx.conversation.findUnique({ where: { residentId: resident.id }, select: { state: true, updatedAt: true } });
    const state = expireStaleDraft(parseState(conversation?.state).state, now);
    if (!(await restingFor(tx, state, now))) return { kind: "deferred", phone };
    // Staff just resolved their request and offered "reply 1 to reopen": the survey's first question
    // would take that "1". The offer is given a day before the survey steps in.
    if (state.step === "reopenOffer" && conversation && now.getTime() - conversation.updatedAt.getTime() < REOPEN_OFFER_GRACE_MS) return { kind: "deferred", phone };

    const locale: Locale = LOCALES.find((l) => l === invitation.locale) ?? "ar";
    const invited: ChannelKind = invitation.channel === "whatsapp" ? "whatsapp" : "sms";
    const whatsapp = resident.identities.find((i) => i.channel === "whatsapp");
    const channel = invited === "whatsapp" ? bulkChannelFor(deps.outbox, phone, whatsapp?.route) : smsReaches(deps.outbox, phone) ? "sms" : null;
    if (!channel) return settle("unreachable", invited === "whatsapp" ? "whatsapp_web_bulk" : "no_sms");
    if (channel !== invited && !pace.smsLeft) return { kind: "deferred", phone, reason: "sms_pace" };
    const ownPhone = channel === "whatsapp" && routeFor(deps.outbox, "whatsapp", whatsapp?.route) === "whatsapp-web";
    if (ownPhone && !pace.ownPhoneLeft) return { kind: "deferred", phone, reason: "own_phone_pace" };
    const closedWindow = channel === "whatsapp" && hasReplyWindow(routeFor(deps.outbox, "whatsapp", whatsapp?.route)) && !whatsappWindowOpen(whatsapp?.lastInboundAt, now);
    if (closedWindow && !deps.whatsappSurveyTemplateSid) return settle("unreachable", "window_closed");
    // Claim first: a second worker's compare-and-set then finds nothing, and writes nothing.
    const claimed = await tx.surveyInvitation.updateMany({
      where: { id: invitationId, status: "pending" },
      data: { status: "sent", channel, invitedAt: now, nextQuestion: 0, viaTemplate: closedWindow, updatedAt: now },
    });
    if (claimed.count === 0) return { kind: "gone" };

    let messageId: number;
    let outcome: Outcome;
    let nextState: ConversationState;
    if (closedWindow) {
      messageId = await queueSurveyTemplate(tx, deps, now, { residentId: resident.id, phone, locale, title: survey.title, templateSid: deps.whatsappSurveyTemplateSid! });
      outcome = { kind: "template", phone, channel };
      // No question yet: whatever the resident answers to the template starts the survey.
      nextState = surveyState(invitationId, -1);
    } else {
      const body = render(deps.i18n, surveyInvitation({ title: survey.title, intro: survey.intro, questions: survey.questions }), locale, channel);
      const delivery = await enqueueOutbound(tx, { ...deps.outbox, whatsappTemplateSid: undefined, now }, {
        residentId: resident.id,
        ticketId: null,
        reference: null,
        channel,
        kind: "notification",
        body,
      });
      messageId = delivery.messageId;
      outcome = { kind: "sent", phone, channel, ...(ownPhone ? { ownPhone } : {}) };
      nextState = surveyState(invitationId, 0);
    }
    await tx.surveyInvitation.update({ where: { id: invitationId }, data: { messageId } });
    const stored = JSON.stringify(nextState);
    await tx.conversation.upsert({
      where: { residentId: resident.id },
      create: { municipalityId: deps.municipalityId, residentId: resident.id, state: stored, stateVersion: STATE_VERSION, createdAt: now, updatedAt: now },
      update: { state: stored, stateVersion: STATE_VERSION, updatedAt: now },
    });
    return outcome;
  });
}

const REOPEN_OFFER_GRACE_MS = 24 * 3600_000;
/** A paused survey is picked up again once its resident's conversation has been quiet this long. */
export const RESUME_AFTER_MS = 30 * 60_000;
/** Paused surveys picked up per call at most (the invitations' pace is not spent on them). */
const RESUME_BATCH = 50;

/**
 * A resident who turned to something else mid-survey (a pothole, their request's status) gets the
 * survey back once, where they stopped: after their conversation has been at rest and quiet for
 * RESUME_AFTER_MS, while the run is open and the survey still scheduled. Not on WhatsApp with the
 * 24-hour window closed (no template is spent on it: "survey" still resumes it). The job starts it,
 * so it is bulk: through the town's own WhatsApp phone only with WHATSAPP_WEB_BULK (no window then),
 * otherwise not at all ("survey" resumes it). Each in one transaction, a compare-and-set on
 * `resumedAt` being unset, under the resident's lock.
 */
async function resumePausedSurveys(deps: RunSurveysDeps, now: Date): Promise<number> {
  const quietSince = new Date(now.getTime() - RESUME_AFTER_MS);
  const paused = await deps.db.surveyInvitation.findMany({
    where: {
      municipalityId: deps.municipalityId,
      status: "sent",
      completedAt: null,
      reason: null,
      resumedAt: null,
      pausedAt: { lte: quietSince },
      run: { status: "open", closesAt: { gt: now }, survey: { status: "scheduled" } },
      resident: { optedOut: false, surveyLeftAt: null, botPausedAt: null },
    },
    select: { id: true },
    orderBy: { id: "asc" },
    take: RESUME_BATCH,
  });
  let resumed = 0;
  for (const { id } of paused) {
    try {
      if (await resumeOnce(deps, now, id)) resumed++;
    } catch (error) {
      deps.logger.error({ err: error, invitationId: id }, "paused survey not resumed");
    }
  }
  return resumed;
}

async function resumeOnce(deps: RunSurveysDeps, now: Date, invitationId: number): Promise<boolean> {
  return deps.db.$transaction(async (tx) => {
    const first = await tx.surveyInvitation.findUnique({ where: { id: invitationId }, select: { resident: { select: { phone: true } } } });
    if (!first) return false;
    if (deps.dialect === "postgres") await tx.$queryRawUnsafe(ADVISORY_LOCK_SQL, residentLockKey(deps.municipalityId, first.resident.phone));
    const invitation = await tx.surveyInvitation.findUnique({
      where: { id: invitationId },
      include: {
        run: { select: { status: true, closesAt: true, questions: true, survey: { select: { status: true } } } },
        resident: { include: { identities: { select: { channel: true, route: true, lastInboundAt: true } }, conversation: { select: { state: true, updatedAt: true } } } },
      },
    });
    if (!invitation || invitation.status !== "sent" || invitation.completedAt || invitation.reason || invitation.resumedAt || !invitation.pausedAt) return false;
    if (invitation.run.status !== "open" || invitation.run.closesAt.getTime() <= now.getTime() || invitation.run.survey.status !== "scheduled") return false;
    const { resident } = invitation;
    if (resident.optedOut || resident.surveyLeftAt || !resident.surveyJoinedAt || resident.botPausedAt) return false;
    const conversation = resident.conversation;
    if (!conversation || conversation.updatedAt.getTime() > now.getTime() - RESUME_AFTER_MS) return false;
    const state = expireStaleDraft(parseState(conversation.state).state, now);
    if (!isAtRest(state) || state.step === "reopenOffer") return false;
    const questions = parseStoredQuestions(invitation.run.questions);
    if (invitation.nextQuestion >= questions.length) return false;
    const channel: ChannelKind = invitation.channel === "whatsapp" ? "whatsapp" : "sms";
    if (channel === "whatsapp") {
      const whatsapp = resident.identities.find((i) => i.channel === "whatsapp");
      if (bulkChannelFor(deps.outbox, resident.phone, whatsapp?.route) !== "whatsapp") return false;
      if (hasReplyWindow(routeFor(deps.outbox, "whatsapp", whatsapp?.route)) && !whatsappWindowOpen(whatsapp?.lastInboundAt, now)) return false;
    }
    const { count } = await tx.surveyInvitation.updateMany({
      where: { id: invitationId, resumedAt: null },
      data: { resumedAt: now, pausedAt: null, updatedAt: now },
    });
    if (count === 0) return false;
    const locale: Locale = LOCALES.find((l) => l === invitation.locale) ?? "ar";
    const body = render(deps.i18n, surveyResumption({ questions }, invitation.nextQuestion), locale, channel);
    await enqueueOutbound(tx, { ...deps.outbox, whatsappTemplateSid: undefined, now }, { residentId: resident.id, ticketId: null, reference: null, channel, kind: "notification", body });
    await tx.conversation.update({
      where: { residentId: resident.id },
      data: { state: JSON.stringify(surveyState(invitationId, invitation.nextQuestion)), stateVersion: STATE_VERSION, updatedAt: now },
    });
    deps.logger.info({ invitationId, to: maskPhone(resident.phone), channel, question: invitation.nextQuestion }, "paused survey resumed");
    return true;
  });
}

/**
 * Whether the conversation may be turned to a survey now: at rest, or at an earlier survey that is
 * over (completed, or its run closed).
 */
async function restingFor(tx: Tx, state: ConversationState, now: Date): Promise<boolean> {
  if (isAtRest(state)) return true;
  if (state.step !== "survey" || !state.survey) return false;
  const earlier = await tx.surveyInvitation.findUnique({
    where: { id: state.survey.invitationId },
    select: { completedAt: true, run: { select: { status: true, closesAt: true } } },
  });
  return !earlier || earlier.completedAt !== null || earlier.run.status !== "open" || earlier.run.closesAt.getTime() <= now.getTime();
}

/**
 * The approved WhatsApp survey template (variable 1: the survey's title in the resident's
 * language), the row shaped as the outbox's own template (queueTemplateOnce). The message keeps
 * the invitation's first line, so staff see what it said.
 */
async function queueSurveyTemplate(
  tx: Tx,
  deps: RunSurveysDeps,
  now: Date,
  req: { residentId: number; phone: string; locale: Locale; title: { ar: string; en: string }; templateSid: string },
): Promise<number> {
  const body = render(deps.i18n, [{ key: "survey.invite", params: { title: req.title } }], req.locale, "whatsapp");
  const message = await tx.message.create({
    data: {
      municipalityId: deps.municipalityId,
      residentId: req.residentId,
      ticketId: null,
      direction: "outbound",
      channel: "whatsapp",
      kind: "template",
      body,
      status: "queued",
      createdAt: now,
    },
  });
  await tx.outbox.create({
    data: {
      municipalityId: deps.municipalityId,
      messageId: message.id,
      residentId: req.residentId,
      channel: "whatsapp",
      toAddress: addressOn("whatsapp", req.phone),
      body,
      contentSid: req.templateSid,
      contentVariables: JSON.stringify({ 1: req.title[req.locale] }),
      status: "pending",
      nextAttemptAt: now,
      deadlineAt: deliveryDeadline(now, deps.outbox.deliveryDeadlineMs),
    },
  });
  return message.id;
}
