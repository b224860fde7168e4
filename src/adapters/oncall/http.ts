/**
 * What the on-call adapters share: one GET to a JSON API, sent once (app/onCall.ts decides what a
 * failure means: the request goes to its approvers), and a hold after the service said its rate
 * limit is used up, so a burst of requests does not keep calling a service that answers 429.
 *
 * Every failure is an `OnCallError` whose message names the service, what was being done and
 * what the service answered, fit for the Jira record; secrets are masked out of it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HttpTimeout, sendHttp } from '../http.js';
import type { HealthReport } from '../../app/ports/idp.js';
import { RateGate } from '../rateGate.js';
import { runHealthChecks } from '../idp/health.js';
import { parseJson } from '../idp/http.js';

export class OnCallError extends Error {
  override readonly name = 'OnCallError';
  constructor(
    message: string,
    /** The HTTP status the service answered; undefined when it did not answer. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ServiceCall {
  /** "PagerDuty": how messages name the service. */
  label: string;
  timeoutMs: number;
  now: () => number;
  redact: (text: string) => string;
  /** The service's words for a non-2xx answer, from its error body. */
  errorText(body: unknown): string | undefined;
  /** What an answer says about the rate limit: calls left and when the window resets (epoch ms, our clock). */
  rateLimit(headers: IncomingHttpHeaders, status: number, now: number): { remaining: number; resetAt: number } | undefined;
}

/** One hold for the whole API: both services count a client's calls together. */
const GATE_KEY = 'api';

export class JsonGetter {
  private readonly gate: RateGate;

  constructor(private readonly c: ServiceCall) {
    this.gate = new RateGate(c.now);
  }

  /** GETs `url`; resolves the parsed body of a 2xx answer, throws OnCallError otherwise. */
  async get(url: URL, headers: Record<string, string>, what: string): Promise<unknown> {
    const { label } = this.c;
    const held = this.gate.reserve(GATE_KEY);
    if (!held.ok) throw new OnCallError(`the ${label} rate limit is used up for ${Math.ceil(held.waitMs / 1000)} s more; not asked while ${what}`, 429);
    let answer;
    try {
      answer = await sendHttp(url, { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': 'access-bot', ...headers }, timeoutMs: this.c.timeoutMs });
    } catch (err) {
      if (err instanceof HttpTimeout) throw new OnCallError(`${label} did not answer within ${this.c.timeoutMs} ms while ${what}`);
      const code = (err as { code?: unknown }).code;
      throw new OnCallError(this.c.redact(`could not reach ${label} at ${url.origin} while ${what} (${typeof code === 'string' ? code : (err as Error).message})`));
    } finally {
      this.gate.release(GATE_KEY, held.ticket);
    }
    const limit = this.c.rateLimit(answer.headers, answer.status, this.c.now());
    if (limit) {
      if (answer.status === 429) this.gate.exhausted(GATE_KEY, limit.resetAt);
      else this.gate.observe(GATE_KEY, limit.remaining, limit.resetAt);
    }
    const body = parseJson(answer.text);
    if (answer.status >= 200 && answer.status < 300) return body;
    const said = this.c.errorText(body);
    const wait = answer.status === 429 && limit ? `; calls wait ${Math.max(1, Math.ceil((limit.resetAt - this.c.now()) / 1000))} s` : '';
    throw new OnCallError(this.c.redact(`${label} answered ${answer.status}${said ? ` (${said})` : ''} while ${what}${wait}`), answer.status);
  }
}

/** An adapter's `checkSchedules`: the credentials, then each schedule (its name as the detail), never throwing. */
export function checkSchedulesWith(
  refused: string,
  probes: { credentials(): Promise<unknown>; schedule(id: string): Promise<string | undefined> },
  schedules: string[],
): Promise<HealthReport> {
  return runHealthChecks(
    {
      credentials: async () => {
        await probes.credentials();
        return undefined;
      },
      group: (id) => probes.schedule(id),
      explain: (err) => (err instanceof Error ? err.message : String(err)),
      withoutCredentials: refused,
    },
    schedules,
    'schedule',
  );
}

/** A timestamp the service wrote (ISO 8601 with an offset); undefined when it is not one. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
