import pino, { type Logger } from 'pino';
import type { Logger as BoltLogger, LogLevel as BoltLogLevel } from '@slack/bolt';
import { REDACTED, redactor } from './redact.js';

/**
 * Structured JSON logs. Secrets never reach a log line by construction (adapters' errors don't
 * carry them); as a second guard every serialised line is redacted (src/redact.ts): each
 * configured secret, and anything shaped like a Slack token or Authorization credentials.
 */
export function createLogger(level: string, secrets: string[] = [], destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'access-bot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.token', '*.apiToken', '*.authorization', '*.headers.authorization', '*.clientSecret', '*.signingSecret'], censor: REDACTED },
      hooks: { streamWrite: redactor(secrets) },
    },
    destination,
  );
}

/** Bolt's logger interface over pino, so Bolt's own lines are structured too. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  let level = 'info' as BoltLogLevel;
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => child.debug(fmt(m)),
    info: (...m: unknown[]) => child.info(fmt(m)),
    warn: (...m: unknown[]) => child.warn(fmt(m)),
    error: (...m: unknown[]) => child.error(fmt(m)),
    setLevel: (l: BoltLogLevel) => (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
