import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";

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
}

export function createLogger(config: LoggerConfig, extra: LoggerOptions = {}): { logger: Logger; flush(): void } {
  let stream: DestinationStream & { flushSync?: () => void };
  if (config.destination === "stdout") stream = pino.destination({ fd: 1, sync: false });
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
