/**
 * On-call look-ups for approval rules (`when: { onCall: … }`): the roster of a schedule, from the
 * configured on-call service (app/ports/onCall.ts), remembered for a minute.
 *
 * What callers can rely on:
 * - A service is asked at most once a minute per schedule, and look-ups of one schedule made
 *   while it is being asked share that one call (a burst of requests costs one call).
 * - A failure, or no answer within the deadline, is an unknown fact, never "not on call" and never
 *   remembered: the next request asks again. The rule engine never auto-approves past an unknown
 *   fact, so the request goes to the rule's normal approvers and the record says why.
 * - The roster is the service's answer at the time it was read; whether the requester is on call
 *   is decided against the time now (domain/onCall.ts), so a shift that ended within the minute
 *   no longer counts.
 */
import type { Logger } from 'pino';
import { ON_CALL_CACHE_MS, ON_CALL_SERVICES, onCallKey, type OnCallServiceType, type Roster } from '../domain/onCall.js';
import type { Known } from '../domain/policy.js';
import type { OnCallService } from './ports/onCall.js';

/** How long a look-up may take before the request goes to its approvers instead. */
export const ON_CALL_DEADLINE_MS = 5000;

export interface OnCallLookupOptions {
  services: readonly OnCallService[];
  now: () => number;
  logger: Pick<Logger, 'warn'>;
  /** Default ON_CALL_DEADLINE_MS. */
  deadlineMs?: number;
}

export class OnCallLookup {
  private readonly services = new Map<OnCallServiceType, OnCallService>();
  private readonly remembered = new Map<string, { roster: Roster; at: number }>();
  private readonly asking = new Map<string, Promise<Known<Roster>>>();
  private readonly deadlineMs: number;

  constructor(private readonly opts: OnCallLookupOptions) {
    for (const s of opts.services) this.services.set(s.type, s);
    this.deadlineMs = opts.deadlineMs ?? ON_CALL_DEADLINE_MS;
  }

  /** The service configured for this type, if any (`access-bot check`). */
  service(type: OnCallServiceType): OnCallService | undefined {
    return this.services.get(type);
  }

  /** Who is on call in the schedule, from memory when asked less than a minute ago. Never throws. */
  roster(type: OnCallServiceType, schedule: string): Promise<Known<Roster>> {
    const key = onCallKey(type, schedule);
    const hit = this.remembered.get(key);
    if (hit && this.opts.now() - hit.at < ON_CALL_CACHE_MS) return Promise.resolve({ known: true, value: hit.roster });
    const service = this.services.get(type);
    if (!service) return Promise.resolve({ known: false, why: `${ON_CALL_SERVICES[type]} is not configured` });
    let pending = this.asking.get(key);
    if (!pending) {
      pending = this.ask(service, key, schedule).finally(() => this.asking.delete(key));
      this.asking.set(key, pending);
    }
    return pending;
  }

  private async ask(service: OnCallService, key: string, schedule: string): Promise<Known<Roster>> {
    const at = this.opts.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${ON_CALL_SERVICES[service.type]} did not answer within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    const asked = service.roster(schedule);
    // Past the deadline nobody waits for it any more: its failure must not go unhandled.
    asked.catch(() => undefined);
    try {
      const roster = await Promise.race([asked, late]);
      this.remembered.set(key, { roster, at });
      return { known: true, value: roster };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.opts.logger.warn({ service: service.type, schedule, err: why }, 'on-call look-up failed; on-call rules do not match and the request goes to its approvers');
      return { known: false, why };
    } finally {
      clearTimeout(timer);
    }
  }
}
