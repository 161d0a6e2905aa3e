import express, { type Express } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import type { Inbox } from "../inbox/handleInbound.js";
import { HttpError } from "../lib/httpError.js";
import { errorHandler } from "./errorHandler.js";
import { twilioWebhook } from "./routes/twilioWebhook.js";

export interface AppDeps {
  inbox: Inbox;
  logger: Logger;
  /** Resolves when the database answers; /healthz reports 503 otherwise. */
  checkDatabase: () => Promise<void>;
  twilio: { authToken: string | undefined };
  publicBaseUrl: string;
  clock?: () => Date;
}

/** The HTTP application, without `listen`: tests drive it with supertest, main.ts serves it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  // Behind Twilio's and the town's proxies: trust the first hop for client addresses only.
  app.set("trust proxy", 1);
  app.use(helmet());

  app.get("/healthz", async (_req, res) => {
    try {
      await deps.checkDatabase();
      res.json({ status: "ok" });
    } catch {
      res.status(503).json({ status: "unavailable", error: "database not reachable" });
    }
  });

  app.use(
    twilioWebhook({
      inbox: deps.inbox,
      logger: deps.logger,
      authToken: deps.twilio.authToken,
      publicBaseUrl: deps.publicBaseUrl,
      clock: deps.clock ?? (() => new Date()),
    }),
  );

  app.use((req, _res, next) => next(new HttpError(404, `Not found: ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
