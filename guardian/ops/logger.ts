import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { stripControl } from "../notifiers/neutralise";

/**
 * Paths pino blanks out wherever they appear one or two levels deep: keys, passwords, auth headers.
 * The config loader already refuses literal secrets in files; this keeps resolved ones out of logs.
 */
const SECRET_KEYS = [
  "privateKey",
  "private_key",
  "key",
  "secret",
  "password",
  "pass",
  "token",
  "apiKey",
  "api_key",
  "authorization",
  "Authorization",
  "signingKey",
  "mnemonic",
  "webhookUrl",
];
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'headers["x-flashbots-signature"]',
  '*.headers["x-flashbots-signature"]',
  "headers.authorization",
  "*.headers.authorization",
];

export interface LoggerConfig {
  level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  /** Where JSON lines go: stdout, stderr, or a file path. */
  destination: string;
  /**
   * Human-readable lines (pino-pretty) instead of JSON. Default: on when the destination is stdout or stderr and
   * that is a terminal, so a person running `failsafe guard` reads lines while a pipe, a file or a log shipper gets
   * JSON.
   */
  pretty?: boolean;
}

/**
 * pino-pretty for a terminal. Log lines quote attacker-controlled text (token symbols, revert strings, contract
 * names), so the formatted line is stripped of control characters (ESC sequences, bidi overrides) before it
 * reaches the terminal; for the same reason it is not colorized (colors are escape sequences too).
 */
export function prettyStream(out: { write(text: string): unknown }): DestinationStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prettyFactory } = require("pino-pretty") as { prettyFactory(options: object): (line: string) => string };
  const prettify = prettyFactory({ colorize: false, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service", singleLine: true });
  return { write: (line: string) => out.write(prettify(line).split("\n").map(stripControl).join("\n")) };
}

export function createLogger(config: LoggerConfig, extra: LoggerOptions = {}): { logger: Logger; flush(): void } {
  let stream: DestinationStream & { flushSync?: () => void };
  const terminal = config.destination === "stdout" ? process.stdout : config.destination === "stderr" ? process.stderr : undefined;
  if (terminal && (config.pretty ?? terminal.isTTY === true)) stream = prettyStream(terminal);
  else if (config.destination === "stdout") stream = pino.destination({ fd: 1, sync: false });
  else if (config.destination === "stderr") stream = pino.destination({ fd: 2, sync: false });
  // A log file is opened and written synchronously: nothing is buffered to lose when the process dies.
  else stream = pino.destination({ dest: config.destination, mkdir: true, sync: true });
  const safe = neverThrows(stream, config.destination);
  const logger = pino(
    {
      level: config.level,
      base: { service: "failsafe-guardian" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      ...extra,
    },
    safe,
  );
  return {
    logger,
    flush: () => {
      // A destination that already failed may retry a flush forever (sonic-boom on ENOSPC): never wait on it.
      if (safe.failed()) return;
      try {
        stream.flushSync?.();
      } catch {
        // A stream that is not ready yet has nothing buffered to lose.
      }
    },
  };
}

/**
 * A log line that cannot be written (disk full, a closed pipe) is dropped, never thrown: a trip, a commit or the
 * SIGTERM handler that logs must not fail because the log disk is full. The first failure is said once on stderr.
 */
function neverThrows(stream: DestinationStream & { on?: (event: string, fn: (err: Error) => void) => unknown }, destination: string): DestinationStream & { failed(): boolean } {
  let failed = false;
  const report = (err: unknown) => {
    if (failed) return;
    failed = true;
    try {
      process.stderr.write(`failsafe: cannot write the log to ${destination} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); log lines may be dropped, the guardian keeps running\n`);
    } catch {
      // stderr is gone too
    }
  };
  // Destinations report some failures as events; an unhandled 'error' event would end the process.
  stream.on?.("error", report);
  return {
    write(line: string) {
      try {
        stream.write(line);
      } catch (err) {
        report(err);
      }
    },
    failed: () => failed,
  };
}

/** One child per pipeline stage, so every line says where it came from. */
export function stageLogger(logger: Logger, stage: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ stage, ...bindings });
}
