/**
 * The one rule that keeps secrets out of what the bot writes: log lines (logger.ts), the output
 * of `access-bot check` (check.ts) and the Jira record's error messages (which reach the outbox,
 * the audit log and Slack). Every known secret value is masked, and so is anything shaped like a
 * Slack token or the credentials of an Authorization header, known or not.
 */

export const REDACTED = '[redacted]';

/**
 * Known values shorter than this are not masked: no real credential is that short, and masking
 * one everywhere would garble ordinary text.
 */
export const MIN_SECRET_LENGTH = 6;

/** Slack tokens: bot, user, app and refresh tokens (xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr-) and app-level xapp-. */
const SLACK_TOKEN = /\bx(?:ox[abposr]|app)-[A-Za-z0-9-]{6,}/g;
/** Basic, Bearer and Okta's SSWS credentials: 20+ characters, long enough for any real one, and spares prose like "Basic Information". */
const AUTH_CREDENTIALS = /\b(Basic|Bearer|SSWS)\s+[A-Za-z0-9+/=._-]{20,}/g;

/** `redact` with its secrets fixed once, for a hot path (every log line). */
export function redactor(secrets: Iterable<string>): (text: string) => string {
  // Longest first: a secret that contains another is masked whole, not around the shorter one.
  const masks = [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of masks) out = out.split(s).join(REDACTED);
    return out.replace(SLACK_TOKEN, REDACTED).replace(AUTH_CREDENTIALS, `$1 ${REDACTED}`);
  };
}

/** `text` with every secret of `secrets` and every token-shaped value masked. */
export function redact(text: string, secrets: Iterable<string>): string {
  return redactor(secrets)(text);
}
