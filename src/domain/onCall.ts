/**
 * On call: who an on-call service (PagerDuty, Jira Service Management Operations) says is on call
 * in a schedule, and what that means for a request. Pure: the roster is read by app/onCall.ts, the
 * time is passed in.
 *
 * The rules a newcomer should know:
 * - A responder is on call from the start of their shift up to (not including) its end; a shift
 *   with no end (PagerDuty's "always on call" levels) does not end.
 * - A roster remembered for a minute is still read against the time now, so a shift that ended
 *   meanwhile no longer counts: an on-call responder is approved only during the shift.
 * - Access approved because someone is on call ends when the shift ends, if that comes before the
 *   end of the duration asked (`grantEnd`).
 */

/** The on-call services a catalog rule may name, with the name the record uses for each. */
export const ON_CALL_SERVICES = { pagerduty: 'PagerDuty', 'jsm-ops': 'JSM Operations' } as const;
export type OnCallServiceType = keyof typeof ON_CALL_SERVICES;
export const ON_CALL_TYPES = Object.keys(ON_CALL_SERVICES) as OnCallServiceType[];

export function isOnCallType(s: string): s is OnCallServiceType {
  return Object.hasOwn(ON_CALL_SERVICES, s);
}

/** One stretch of on-call duty in a schedule (epoch ms). */
export interface OnCallShift {
  /** Lower-cased; absent when the service would not say (an Atlassian profile that hides it). */
  email?: string;
  /** The service's own id of the responder. */
  userId: string;
  name?: string;
  start: number;
  /** null: the responder does not go off call. */
  end: number | null;
}

/** A schedule's shifts that cover the moment it was read. */
export interface Roster {
  scheduleName?: string;
  shifts: OnCallShift[];
  /**
   * Responders on call whose email or shift could not be read (an Atlassian profile that hides
   * the email, a responder the timeline does not place): a requester not found among the shifts
   * may be one of them, so "not on call" cannot be said.
   */
  unresolved: number;
}

/** A request's on-call shift, as the record names it. */
export interface OnCallMatch {
  service: OnCallServiceType;
  schedule: string;
  scheduleName?: string;
  start: number;
  end: number | null;
}

/** How long a roster is remembered: on-call services are asked at most once a minute per schedule. */
export const ON_CALL_CACHE_MS = 60_000;

/** The key a roster is looked up and remembered under. */
export function onCallKey(service: string, schedule: string): string {
  return `${service}:${schedule}`;
}

/** "PagerDuty schedule P1PAYMT (Payments primary)". */
export function describeSchedule(service: OnCallServiceType, schedule: string, name?: string): string {
  return `${ON_CALL_SERVICES[service]} schedule ${schedule}${name && name !== schedule ? ` (${name})` : ''}`;
}

/** Whether the shift covers `now`: from its start up to, not including, its end. */
export function covers(shift: Pick<OnCallShift, 'start' | 'end'>, now: number): boolean {
  return shift.start <= now && (shift.end === null || now < shift.end);
}

/**
 * The shift of `email` that covers `now`, the one that lasts longest when several do (two
 * rotations of one schedule, or one schedule under two escalation levels).
 */
export function shiftAt(roster: Roster, email: string, now: number): OnCallShift | undefined {
  const wanted = email.toLowerCase();
  let best: OnCallShift | undefined;
  for (const s of roster.shifts) {
    if (s.email !== wanted || !covers(s, now)) continue;
    if (!best || s.end === null || (best.end !== null && s.end > best.end)) best = s;
  }
  return best;
}

/**
 * When a grant made at `grantedAt` for `durationMs` (null: permanent) ends, no later than
 * `endsBy` (the end of the on-call shift that approved it) when there is one.
 */
export function grantEnd(grantedAt: number, durationMs: number | null, endsBy: number | null): number | null {
  const asked = durationMs === null ? null : grantedAt + durationMs;
  if (endsBy === null) return asked;
  return asked === null ? endsBy : Math.min(asked, endsBy);
}
