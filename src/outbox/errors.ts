/**
 * How an effect failed, so the dispatcher knows what to do next.
 *
 * - `RetryableError`: the service may answer differently later (429, 5xx, timeout, connection
 *   refused). `retryAfterMs`, when the service said so (`Retry-After`, Okta's
 *   `X-Rate-Limit-Reset`), is honoured instead of the computed backoff when it is longer.
 * - `PermanentError`: retrying cannot help until a person changes something (user or group not
 *   found, forbidden, project missing). The effect is set aside as dead with its cause, and an
 *   admin may retry it once the cause is fixed.
 *
 * Adapters throw these; anything else that escapes a handler is treated as retryable, because an
 * unknown error (a bug, a transient parse failure) must never silently drop an effect.
 */
export class RetryableError extends Error {
  readonly retryable = true as const;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly code = 'retryable',
  ) {
    super(message);
    this.name = 'RetryableError';
  }
}

export class PermanentError extends Error {
  readonly retryable = false as const;
  constructor(
    message: string,
    readonly code = 'permanent',
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export type EffectError = RetryableError | PermanentError;

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

/**
 * Milliseconds to wait according to a `Retry-After` header (delta-seconds or an HTTP date),
 * or undefined when absent or unreadable. RFC 9110 §10.2.3.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null || value === '') return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Classifies an HTTP status the way every adapter here does: 408, 429 and 5xx are retryable,
 * other 4xx permanent.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
