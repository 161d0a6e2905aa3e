import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../config.js";

/**
 * Runs a command-line tool's `main` when its file is the script node was started with (imported by a
 * test, it does nothing). `main` may return the exit code. An operator's mistake (a ConfigError) is
 * one clear line, without a stack trace; anything else is printed whole. Either way the exit code is 1.
 */
export function runAsScript(moduleUrl: string, main: () => Promise<number | void>): void {
  if (process.argv[1] === undefined || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main().then(
    (code) => {
      if (typeof code === "number") process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof ConfigError) {
        if (error.message) console.error(error.message);
      } else console.error(error);
      process.exitCode = 1;
    },
  );
}
