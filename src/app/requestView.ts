/**
 * A request as a person sees it in a list (`/access list`, `/access status`, the App Home): what,
 * where it stands, who is being asked since when, how long a grant has left. Plain text: the
 * Slack adapter escapes it.
 */
import { describeDuration, type Duration } from '../domain/duration.js';
import { describeState } from '../domain/lifecycle.js';
import { describeAsk } from '../domain/removal.js';
import { describeRequestName, type RequestName } from '../domain/command.js';
import { describeBasis } from '../domain/onBehalf.js';
import { formatTime } from '../domain/steps.js';
import type { Tx } from './context.js';
import type { ApproverRecord, RequestRecord } from './ports/store.js';

/** "2 days 3 hours", "4 hours 10 minutes", "12 minutes", "40 seconds": the two largest units. */
export function describeLeft(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  let rest = Math.max(0, ms);
  const first = units.findIndex(([size]) => rest >= size);
  if (first < 0) return '0 seconds';
  const parts: string[] = [];
  for (const [size, name] of units.slice(first, first + 2)) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
  }
  return parts.join(' ');
}

export function keyOf(r: RequestRecord): string {
  return r.jiraKey ?? r.id;
}

export function whatOf(r: RequestRecord): string {
  const duration = describeDuration({ token: r.durationToken, ms: r.durationMs } satisfies Duration);
  return describeAsk({ kind: r.kind, appName: r.appName, roleName: r.roleName, fromRoleName: r.fromRoleName, duration, subject: r.subjectName ?? r.subjectEmail });
}

/** Who the request waits for at its current stage: those asked who have not voted yet. */
export function waitingOn(approvers: ApproverRecord[], stage: number): ApproverRecord[] {
  return approvers.filter((a) => a.stage === stage && a.decision === null);
}

/** The requester's name, as a list shows it. */
export function requesterName(r: RequestRecord): string {
  return r.requesterName ?? r.requesterEmail ?? 'someone';
}

/** Whoever asked on the requester's behalf, by name; undefined when the requester asked themself. */
export function submitterName(r: RequestRecord): string | undefined {
  return r.submittedAs ? (r.submitterName ?? r.submitterEmail ?? 'someone') : undefined;
}

/** "Requested by Carol White on behalf of Erin Green, as their manager." (a request made for someone else). */
export function onBehalfLine(r: RequestRecord): string | undefined {
  const by = submitterName(r);
  return by && r.submittedAs ? `Requested by ${by} on behalf of ${requesterName(r)}, ${describeBasis(r.submittedAs)}.` : undefined;
}

/** How a grant ended, in a list. */
const ENDED_BY: Readonly<Record<string, string>> = { expired: 'expired', manual: 'revoked by', reclaimed: 'reclaimed: unused', offboarded: 'ended: the holder left' };

/**
 * One line about a request, from the point of view of its requester (who is told who asked for
 * them), or of whoever asked on their behalf (`submitter`: told whom it is for).
 */
export function requestLine(ctx: Pick<Tx, 'store' | 'now'>, r: RequestRecord, now = ctx.now(), pov: 'requester' | 'submitter' = 'requester'): string {
  const by = submitterName(r);
  const note = by === undefined ? '' : pov === 'requester' ? ` (asked for you by ${by})` : ` (for ${requesterName(r)})`;
  const head = `${keyOf(r)}: ${whatOf(r)}${note}`;
  switch (r.state) {
    case 'pending': {
      const asked = waitingOn(ctx.store.approversOf(r.id, r.stage), r.stage);
      if (asked.length === 0) return `${head}: submitted ${formatTime(r.createdAt)}, approvers being found`;
      const since = Math.min(...asked.map((a) => a.askedAt));
      return `${head}: waiting for ${asked.map((a) => a.name ?? a.email).join(', ')} since ${formatTime(since)}`;
    }
    case 'active':
      return r.expiresAt === null ? `${head}: active, does not expire` : `${head}: active until ${formatTime(r.expiresAt)} (${describeLeft(r.expiresAt - now)} left)`;
    case 'denied':
      return `${head}: denied by ${r.decidedBy ?? 'an approver'}`;
    case 'cancelled':
      return `${head}: cancelled`;
    case 'revoked':
      if (r.kind === 'removal') return `${head}: carried out ${formatTime(r.removedAt ?? r.updatedAt)}${r.removalOutcome === 'not_member' ? ' (there was no membership to remove)' : ''}`;
      return `${head}: ended ${formatTime(r.revokedAt ?? r.updatedAt)} (${ENDED_BY[r.revokeCause ?? 'expired'] ?? 'expired'}${r.revokeCause === 'manual' ? ` ${r.revokedBy ?? 'someone'}` : ''})`;
    case 'failed':
      return `${head}: failed: ${r.failure ?? 'unknown cause'}`;
    default:
      return `${head}: ${describeState(r.state)}`;
  }
}

/** The request a person names, if it exists. */
export function findNamed(ctx: Pick<Tx, 'store'>, name: RequestName): RequestRecord | undefined {
  return 'jiraKey' in name ? ctx.store.findByJiraKey(name.jiraKey) : ctx.store.getRequest(name.requestId);
}

/** The same answer whether a request does not exist or is not the asker's: nothing leaks. */
export function notYours(name: RequestName): string {
  return `access-bot knows no request ${describeRequestName(name)} that you can see.`;
}
