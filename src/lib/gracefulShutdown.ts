import type { Server, ServerResponse } from "node:http";
import type { Logger } from "pino";

export interface ShutdownDeps {
  server: Server;
  jobs: {
    /** No new runs; resolves when the runs in progress have finished. */
    stop(): Promise<void>;
    /** Names of the runs still in progress, for the log. */
    running(): string[];
  };
  /** Closes the database connections, after the last request and job run. */
  closeDatabase: () => Promise<void>;
  logger: Logger;
  /** How long requests and job runs in progress may take to finish (default 10 s); then their connections are cut. */
  graceMs?: number;
  /** After this long from the first signal the process exits with 1, whatever is still running (default 20 s). */
  forceAfterMs?: number;
  /**
   * A repeat of the first signal within this long is the same request, not a second one (default
   * 1 s): Ctrl-C under `npm start` reaches the app twice, from the terminal and forwarded by npm.
   */
  repeatWithinMs?: number;
  /** `process.exit` (tests pass a spy). */
  exit?: (code: number) => void;
}

/**
 * Makes `server` ready to stop gracefully and returns what SIGTERM and SIGINT call. A stop:
 * accepts no new connections and lets requests in progress (a webhook being answered) finish —
 * their responses say `Connection: close`, and idle keep-alive connections are closed at once;
 * stops the jobs (the outbox worker claims no more rows, a send in flight is recorded); waits for
 * both at most `graceMs`, then cuts what is left (an unrecorded send is reconciled after its
 * lease, as after a crash); closes the database and exits 0. A second signal (not the first one
 * repeated within `repeatWithinMs`), or `forceAfterMs` after the first, exits 1 at once. Call it
 * right after `listen`, before the first request.
 * The returned promise settles when the stop is over (after `exit`, for tests).
 */
export function gracefulShutdown(deps: ShutdownDeps): (signal: string) => Promise<void> {
  const { server, jobs, logger } = deps;
  const graceMs = deps.graceMs ?? 10_000;
  const forceAfterMs = deps.forceAfterMs ?? 20_000;
  const repeatWithinMs = deps.repeatWithinMs ?? 1000;
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const inProgress = new Set<ServerResponse>();
  let stopping: Promise<void> | null = null;
  let first: { signal: string; at: number } | null = null;

  // Before the app's own listener, so that the header goes out even with an answer sent at once.
  server.prependListener("request", (_req, res: ServerResponse) => {
    inProgress.add(res);
    res.once("close", () => inProgress.delete(res));
    // A request on a kept-alive connection after the stop began: answered, then the connection ends.
    if (stopping) res.setHeader("Connection", "close");
  });

  const stop = async (signal: string) => {
    const force = setTimeout(() => {
      logger.error({ afterMs: forceAfterMs, jobs: jobs.running(), requests: inProgress.size }, "still not stopped: exiting now");
      exit(1);
    }, forceAfterMs);
    force.unref();
    logger.info({ signal, requests: inProgress.size, jobs: jobs.running(), graceMs }, "shutting down: no new connections, waiting for requests and jobs in progress");
    try {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inProgress) {
        if (!res.headersSent) res.setHeader("Connection", "close");
        // A response already on its way keeps its connection open after it ends: close it then.
        else res.once("close", () => setImmediate(() => server.closeIdleConnections()));
      }
      const [requestsDone, jobsDone] = await Promise.all([within(closed, graceMs), within(jobs.stop(), graceMs)]);
      if (!requestsDone) {
        logger.warn({ requests: inProgress.size, graceMs }, "requests still in progress after the grace period: closing their connections");
        server.closeAllConnections();
        await closed;
      }
      if (!jobsDone) logger.warn({ jobs: jobs.running(), graceMs }, "jobs still running after the grace period: leaving them (claimed outbox rows are reconciled after their lease)");
      await deps.closeDatabase();
      clearTimeout(force);
      logger.info({ signal }, "stopped");
      exit(0);
    } catch (error) {
      clearTimeout(force);
      logger.error({ err: error }, "shutdown failed");
      exit(1);
    }
  };

  return (signal: string) => {
    if (stopping && first) {
      if (signal === first.signal && performance.now() - first.at < repeatWithinMs) return stopping;
      logger.warn({ signal }, "second signal while shutting down: exiting now");
      exit(1);
      return stopping;
    }
    first = { signal, at: performance.now() };
    stopping = stop(signal);
    return stopping;
  };
}

/** Whether `promise` settled within `ms` (its rejection counts as settled: the caller only waits). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
