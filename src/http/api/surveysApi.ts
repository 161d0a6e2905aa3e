import express, { type Request, type RequestHandler, type Router } from "express";
import type { z } from "zod";
import { assertNever } from "../../lib/assertNever.js";
import { HttpError } from "../../lib/httpError.js";
import { canRunSurveys, type Actor } from "../../services/staff.js";
import { estimateSurvey, type SurveyEstimate as Estimate } from "../../services/surveys/cost.js";
import type { SurveyRecord } from "../../services/surveys/definition.js";
import { surveyResults, type RunResult } from "../../services/surveys/results.js";
import { resultsCsv } from "../../services/surveys/resultsCsv.js";
import {
  cancelSurvey,
  createSurvey,
  getSurvey,
  listSurveys,
  pauseSurvey,
  resumeSurvey,
  scheduleSurvey,
  type SurveyRefusal,
} from "../../services/surveys/surveys.js";
import type { RouterDeps } from "../createApp.js";
import {
  parseBody,
  parseInput,
  ScheduleRequest,
  SurveyActionRequest,
  SurveyDefinition,
  SurveyIdParam,
  type SurveyCreated,
  type SurveyDetail,
  type SurveyEstimate,
  type SurveyList,
  type SurveyRefused,
  type SurveyResults,
  type SurveyRunResult,
  type SurveyScheduled,
  type SurveyStatusResponse,
} from "./apiSchemas.js";
import { apiActor } from "./bearerAuth.js";

/**
 * The survey routes of /api/v1, registered on the API's own router (so they are listed, and
 * documented, with the others). A program defines a survey as a draft, sees what a run costs,
 * confirms that number to schedule it (as staff do on the pages), pauses, resumes or cancels it,
 * and reads the results. Only admins and staff with the surveys permission may.
 */
/** Runs GET /surveys/{id}/results returns without ?run. */
const LATEST_RUNS = 12;

/** The optional `?run=ID` of the results endpoints; a malformed one is a 400. */
function runParam(req: Request): number | undefined {
  const raw = req.query.run;
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^[1-9]\d{0,9}$/.test(raw)) throw new HttpError(400, "run must be a run id (a positive integer)");
  return Number(raw);
}

export function surveyRoutes(router: Router, deps: RouterDeps, auth: RequestHandler): void {
  const json = express.json({ limit: "64kb" });
  const surveysActor = (req: Request): Actor => {
    const actor = apiActor(req);
    if (!canRunSurveys(actor)) throw new HttpError(403, "Surveys need an admin's token or one of a staff member with the surveys permission");
    return actor;
  };
  const surveyId = (req: Request) => parseInput(SurveyIdParam, req.params, "path").id;
  const estimate = (actor: Actor, survey: SurveyRecord) => estimateSurvey(deps.db, deps.i18n, actor.municipalityId, survey);

  router.get("/surveys", auth, async (req, res) => {
    const actor = surveysActor(req);
    const surveys = await listSurveys(deps.db, actor.municipalityId);
    res.json({
      surveys: surveys.map((s) => ({
        id: s.id,
        title: s.title,
        status: s.status,
        questions: s.questions.length,
        recurrence: s.recurrence,
        startAt: iso(s.startAt),
        nextRunAt: iso(s.nextRunAt),
        runs: s.runs,
        lastRunAt: iso(s.lastRunAt),
        createdAt: s.createdAt.toISOString(),
        updatedAt: s.updatedAt.toISOString(),
      })),
    } satisfies z.input<typeof SurveyList>);
  });

  router.post("/surveys", auth, json, async (req, res) => {
    const actor = surveysActor(req);
    const input = parseBody(SurveyDefinition, req.body, QUESTION_MESSAGES);
    const result = await createSurvey(deps.db, actor.municipalityId, input, actor.id, deps.clock());
    if (!result.ok) {
      if (result.refusal === "bad_recurrence") throw new HttpError(400, "Invalid request body: schedule.recurrence.expression: not a cron expression node-cron can read");
      throw new HttpError(400, `Invalid request body: ${result.refusal}`);
    }
    const { survey } = result;
    res
      .status(201)
      .location(`${req.baseUrl}/surveys/${survey.id}`)
      .json({ id: survey.id, status: survey.status, ...serializeEstimate(await estimate(actor, survey)) } satisfies z.input<typeof SurveyCreated>);
  });

  router.get("/surveys/:id", auth, async (req, res) => {
    const actor = surveysActor(req);
    const id = surveyId(req);
    const survey = await getSurvey(deps.db, actor.municipalityId, id);
    if (!survey) throw notFound(id);
    res.json({
      id: survey.id,
      status: survey.status,
      title: survey.title,
      intro: survey.intro,
      questions: survey.questions,
      audience: survey.audience,
      schedule: { startAt: iso(survey.startAt), recurrence: survey.recurrence },
      expiryHours: survey.expiryHours,
      nextRunAt: iso(survey.nextRunAt),
      confirmedSegments: survey.confirmedSegments,
      createdAt: survey.createdAt.toISOString(),
      updatedAt: survey.updatedAt.toISOString(),
      estimate: serializeEstimate(await estimate(actor, survey)),
    } satisfies z.input<typeof SurveyDetail>);
  });

  router.post("/surveys/:id/schedule", auth, json, async (req, res) => {
    const actor = surveysActor(req);
    const id = surveyId(req);
    const { confirmedSegments } = parseBody(ScheduleRequest, req.body);
    const result = await scheduleSurvey(deps.db, deps.i18n, actor.municipalityId, id, confirmedSegments, deps.clock());
    if (!result.ok) return void (await refuse(res, actor, id, result.refusal));
    const { survey, estimate: cost } = result;
    res.json({
      id: survey.id,
      status: survey.status,
      nextRunAt: iso(survey.nextRunAt),
      confirmedSegments,
      recipients: cost.recipients,
    } satisfies z.input<typeof SurveyScheduled>);
  });

  const action = (name: "pause" | "resume" | "cancel", run: typeof pauseSurvey) => {
    router.post(`/surveys/:id/${name}`, auth, json, async (req, res) => {
      const actor = surveysActor(req);
      const id = surveyId(req);
      // `{}` as documented, or no body at all (express.json then leaves none).
      if (req.body !== undefined) parseBody(SurveyActionRequest, req.body);
      const result = await run(deps.db, actor.municipalityId, id, deps.clock());
      if (!result.ok) return void (await refuse(res, actor, id, result.refusal));
      res.json(statusOf(result.survey));
    });
  };
  action("pause", pauseSurvey);
  action("resume", resumeSurvey);
  action("cancel", cancelSurvey);

  router.get("/surveys/:id/results", auth, async (req, res) => {
    const actor = surveysActor(req);
    const id = surveyId(req);
    // The token's staff member may run surveys, so may read individual (masked) free answers.
    const runId = runParam(req);
    // One run (?run=ID), or the newest runs: years of a monthly survey are not one answer.
    const results = await surveyResults(deps.db, actor.municipalityId, id, { responses: true, ...(runId !== undefined ? { runId } : { latest: LATEST_RUNS }) });
    if (!results) throw notFound(id);
    res.json({
      survey: { id: results.survey.id, title: results.survey.title, status: results.survey.status },
      runs: results.runs.map(serializeRun),
    } satisfies z.input<typeof SurveyResults>);
  });

  router.get("/surveys/:id/results.csv", auth, async (req, res) => {
    const actor = surveysActor(req);
    const id = surveyId(req);
    const runId = runParam(req);
    const csv = await resultsCsv(deps.db, actor.municipalityId, id, runId !== undefined ? { runId } : {});
    if (csv === null) throw notFound(id);
    res
      .type("text/csv; charset=utf-8")
      .attachment(`survey-${id}-results.csv`)
      .send(csv);
  });

  /** A refused action: 404, or 409/422 in the API's error shape with a code and what is needed to retry. */
  async function refuse(res: express.Response, actor: Actor, id: number, refusal: SurveyRefusal): Promise<void> {
    if (refusal === "not_found") throw notFound(id);
    const survey = await getSurvey(deps.db, actor.municipalityId, id);
    if (!survey) throw notFound(id);
    const body: z.input<typeof SurveyRefused> = { error: "", code: refusal };
    let status = 409;
    switch (refusal) {
      case "not_draft":
        body.error = `Survey #${id} is ${survey.status}: only a draft can be scheduled`;
        break;
      case "not_scheduled":
        body.error = `Survey #${id} is ${survey.status}: only a scheduled survey can be paused`;
        break;
      case "not_paused":
        body.error = `Survey #${id} is ${survey.status}: only a paused survey can be resumed`;
        break;
      case "already_cancelled":
        body.error = `Survey #${id} is already cancelled`;
        break;
      case "estimate_changed": {
        const cost = await estimate(actor, survey);
        body.error = `The estimate changed: a run now costs ${cost.estimatedSegments} SMS segments for ${cost.recipients.total} recipients; confirm that number to schedule`;
        body.estimatedSegments = cost.estimatedSegments;
        body.recipients = cost.recipients;
        break;
      }
      case "too_long": {
        const cost = await estimate(actor, survey);
        status = 422;
        body.error = "A message of the survey is over 2 SMS segments: shorten the texts listed in tooLong";
        body.tooLong = serializeEstimate(cost).tooLong;
        break;
      }
      case "bad_recurrence":
        status = 422;
        body.error = "The survey's cron expression cannot be read";
        break;
      case "start_in_past":
        status = 422;
        body.error = "The survey's start is in the past: set a new start (or none) in a new draft";
        break;
      default:
        assertNever(refusal);
    }
    body.status = survey.status;
    res.status(status).json(body);
  }
}

/** The messages SurveyQuestionSchema reports as codes, for integrators. */
const QUESTION_MESSAGES: Record<string, string> = {
  choice_options: "a choice question needs 2 to 9 options",
  options_only_for_choice: "only a choice question has options",
  rating_scale: "a rating is 1-5 (min 1, max 5) or 0-10 (min 0, max 10)",
  area_needs_choice: "only a choice question can ask the area",
  scale_only_for_rating: "min and max are only for a rating question",
  control_characters: "must not contain control characters",
  invisible: "must contain visible text",
  unknown_field: "is not a field of a survey (check its spelling)",
};

const iso = (date: Date | null) => date?.toISOString() ?? null;
const notFound = (id: number) => new HttpError(404, `No survey #${id}`);

const statusOf = (survey: SurveyRecord): z.input<typeof SurveyStatusResponse> => ({ id: survey.id, status: survey.status, nextRunAt: iso(survey.nextRunAt) });

/** The estimate, field by field (the rendered messages stay out: GET /surveys/{id} lists the definition). */
function serializeEstimate(estimate: Estimate): z.input<typeof SurveyEstimate> {
  return {
    recipients: estimate.recipients,
    estimatedSegments: estimate.estimatedSegments,
    perResident: estimate.perResident,
    tooLong: estimate.tooLong.map((m) => ({ locale: m.locale, kind: m.kind, question: m.question, segments: m.segments, text: m.text })),
  };
}

/** One run's results, field by field, so what the results module adds later stays internal until documented. */
function serializeRun(run: RunResult): z.input<typeof SurveyRunResult> {
  return {
    id: run.id,
    number: run.number,
    scheduledFor: run.scheduledFor.toISOString(),
    closesAt: run.closesAt.toISOString(),
    status: run.status === "closed" ? "closed" : "open",
    invited: run.invited,
    notReachable: run.notReachable,
    skipped: run.skipped,
    expired: run.expired,
    pending: run.pending,
    started: run.started,
    completed: run.completed,
    responseRate: run.responseRate,
    questions: run.questions.map((q) => ({
      index: q.index,
      type: q.type,
      text: q.text,
      answered: q.answered,
      skipped: q.skipped,
      counts: q.counts.map((c) => ({ value: c.value, label: c.label, count: c.count, share: c.share })),
      mean: q.mean,
      stats: q.stats,
      answers: q.answers?.map((a) => ({ value: a.value, phoneMasked: a.phoneMasked, area: a.area })) ?? null,
    })),
    breakdown: run.breakdown,
    comparison: run.comparison,
  };
}
