/**
 * Routing over time: who is reminded, when a stage escalates, when a request times out. Pure:
 * the caller passes the facts and the time.
 *
 * - `remindAfter` counts from when each approver was asked, once per approver.
 * - `escalateAfter` counts from when the stage started, once per stage.
 * - `timeout` counts from submission.
 */
import type { StagedPolicy } from './catalog.js';
import type { PersonId } from './people.js';

export interface AskedApprover {
  personId: PersonId;
  askedAt: number;
  decision: 'approve' | 'deny' | null;
  remindedAt: number | null;
}

export interface TimerFacts {
  policy: StagedPolicy;
  createdAt: number;
  stage: number;
  /** When the current stage's approvers were first asked; null while routing is under way. */
  stageStartedAt: number | null;
  /** The last stage that was escalated, or null. */
  escalatedStage: number | null;
  /** Approvers of the current stage. */
  approvers: AskedApprover[];
}

export interface DueActions {
  timeOut: boolean;
  remind: PersonId[];
  escalate: boolean;
}

function escalationAt(f: TimerFacts): number | undefined {
  const { escalateAfterMs, escalateTo } = f.policy;
  if (escalateAfterMs === undefined || escalateTo.length === 0 || f.stageStartedAt === null) return undefined;
  if (f.escalatedStage !== null && f.escalatedStage >= f.stage) return undefined;
  return f.stageStartedAt + escalateAfterMs;
}

function reminderTimes(f: TimerFacts): { personId: PersonId; at: number }[] {
  const after = f.policy.remindAfterMs;
  if (after === undefined) return [];
  return f.approvers.filter((a) => a.decision === null && a.remindedAt === null).map((a) => ({ personId: a.personId, at: a.askedAt + after }));
}

export function dueActions(now: number, f: TimerFacts): DueActions {
  const timeout = f.policy.timeoutMs;
  if (timeout !== undefined && now >= f.createdAt + timeout) return { timeOut: true, remind: [], escalate: false };
  const esc = escalationAt(f);
  return {
    timeOut: false,
    remind: reminderTimes(f)
      .filter((r) => now >= r.at)
      .map((r) => r.personId),
    escalate: esc !== undefined && now >= esc,
  };
}

/** The earliest timer still to fire, or null when nothing is scheduled. */
export function nextTimerAt(f: TimerFacts): number | null {
  const times: number[] = [];
  if (f.policy.timeoutMs !== undefined) times.push(f.createdAt + f.policy.timeoutMs);
  const esc = escalationAt(f);
  if (esc !== undefined) times.push(esc);
  for (const r of reminderTimes(f)) times.push(r.at);
  return times.length === 0 ? null : Math.min(...times);
}
