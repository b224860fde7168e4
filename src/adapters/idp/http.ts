/** Small HTTP helpers the connectors share. */
import { parseRetryAfter, PermanentError, RetryableError } from '../../outbox/errors.js';

export function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

export function nonEmpty(s: string | null | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

/**
 * A sign-in time from an IdP's answer (ISO 8601), as epoch ms: null when absent, or at or before
 * the Unix epoch (Google's `lastLoginTime` of someone who never signed in is
 * "1970-01-01T00:00:00.000Z": GAM-team/GAM#488, doitintl/DoiT-AdminPulse-for-Workspace#9).
 * Anything unreadable is a PermanentError naming `what`.
 */
export function parseSignInTime(v: unknown, what: string, code: string): number | null {
  if (v === null || v === undefined || v === '') return null;
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new PermanentError(`${what} is not a time: ${JSON.stringify(v).slice(0, 60)}`, code);
  return ms <= 0 ? null : ms;
}

/** `Retry-After` (seconds or an HTTP date); on a 429 at least one second. */
export function retryAfterMs(value: string | null | undefined, nowMs: number, status: number): number | undefined {
  const ms = parseRetryAfter(value, nowMs);
  if (ms === undefined) return undefined;
  return status === 429 ? Math.max(1000, ms) : ms;
}

/** What fetch threw: a timeout (AbortSignal.timeout → TimeoutError) or a connection failure (TypeError, cause.code). */
export function transportFailure(err: unknown): { timedOut: boolean; detail: string } {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: { name?: unknown; code?: unknown; cause?: { code?: unknown } } } | null;
  const names = [e?.name, e?.code, e?.cause?.name];
  if (names.includes('TimeoutError') || names.includes('AbortError')) return { timedOut: true, detail: 'timeout' };
  const code = [e?.cause?.code, e?.cause?.cause?.code, e?.code].find((c) => typeof c === 'string');
  return { timedOut: false, detail: typeof code === 'string' ? code : typeof e?.message === 'string' && e.message ? e.message : 'connection error' };
}

export interface TokenAnswer {
  res: Response;
  body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
}

/**
 * POSTs an OAuth 2.0 token request form. A timeout or connection failure is a RetryableError
 * coded `<codePrefix>_timeout` / `<codePrefix>_unreachable`; the caller classifies the answer.
 */
export async function postTokenForm(url: string, form: URLSearchParams, timeoutMs: number, service: string, codePrefix: string): Promise<TokenAnswer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { res, body: parseJson(text) as TokenAnswer['body'] };
  } catch (err) {
    const t = transportFailure(err);
    throw new RetryableError(
      t.timedOut ? `the ${service} token endpoint did not answer within ${timeoutMs} ms` : `could not reach the ${service} token endpoint (${t.detail})`,
      undefined,
      t.timedOut ? `${codePrefix}_timeout` : `${codePrefix}_unreachable`,
    );
  }
}

/** Refresh 5 minutes before expiry, or halfway through the life of a shorter-lived token. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * An OAuth access token kept until shortly before it expires; concurrent callers share one
 * fetch. Subclasses fetch it (Entra: client credentials; Google: a signed service-account JWT).
 */
export abstract class CachedToken {
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  protected constructor(protected readonly now: () => number) {}

  async get(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return this.cached.token;
    this.pending ??= this.fetchToken()
      .then(({ token, lifeMs, started }) => {
        this.cached = { token, refreshAt: started + Math.max(lifeMs - REFRESH_MARGIN_MS, lifeMs / 2) };
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** Forget `token` (the API refused it); a newer token fetched meanwhile is kept. */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  /** A new token, how long it lives, and when the request for it started (epoch ms). */
  protected abstract fetchToken(): Promise<{ token: string; lifeMs: number; started: number }>;
}
