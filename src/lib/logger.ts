import { pino, type Logger } from "pino";

/**
 * Structured JSON logs. Phone numbers are masked where they are logged (`maskPhone`); these paths
 * are redacted as a second line of defence in case a raw payload is ever logged.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: ["From", "To", "body.From", "body.To", "req.body.From", "req.body.To", "phone", "*.phone", "Body", "body.Body", "authToken", "*.authToken"],
      censor: "[redacted]",
    },
  });
}
