/**
 * Approval policies as written on a role or in `defaults:`: `approvers: [...]` (one stage), or
 * `approval:` (auto, or a map with approvers:/stages:, fallback, reminders, escalation, timeout).
 */
import type { ApprovalPolicy, ApprovalStage, ApproverRef, StagedPolicy } from '../../domain/catalog.js';
import { EMAIL_RE } from '../values.js';
import { type Obj, type Reader, show, suggest } from './reader.js';

/** The keys of an `approval:` map (a rule's outcome takes them too). */
export const APPROVAL_KEYS = ['approvers', 'required', 'stages', 'fallback', 'remindAfter', 'escalateAfter', 'escalateTo', 'timeout'] as const;
const STAGE_KEYS = ['approvers', 'required'] as const;
const APPROVER_HINT = 'use owners, manager, an email, or slack-group:<handle or id>';

/** A policy as written somewhere, with where `owners` appears in it (checked per application). */
export interface ParsedPolicy {
  policy: ApprovalPolicy;
  ownersAt: string[];
  at: string;
}
/** A defaults field: absent, given but invalid (already reported), or a value. */
export type Inherited<T> = { state: 'absent' } | { state: 'invalid' } | { state: 'ok'; value: T; at: string };

/** `approvers` or `approval` on a role or in defaults: at most one of them. */
export function policyField(r: Reader, p: string, m: Obj): Inherited<ParsedPolicy> {
  if (m.approvers !== undefined && m.approval !== undefined) {
    r.fail(p, 'set either approvers or approval, not both');
    return { state: 'invalid' };
  }
  if (m.approvers !== undefined) {
    const at = `${p}.approvers`;
    const ownersAt: string[] = [];
    const refs = approvers(r, at, m.approvers, ownersAt, true);
    if (!refs) return { state: 'invalid' };
    const policy: StagedPolicy = { kind: 'stages', stages: [{ approvers: refs, required: 1 }], fallback: [], escalateTo: [] };
    return { state: 'ok', value: { policy, ownersAt, at }, at };
  }
  if (m.approval !== undefined) {
    const at = `${p}.approval`;
    const parsed = approval(r, at, m.approval);
    return parsed ? { state: 'ok', value: parsed, at } : { state: 'invalid' };
  }
  return { state: 'absent' };
}

export function approval(r: Reader, p: string, raw: unknown): ParsedPolicy | undefined {
  if (raw === 'auto') return { policy: { kind: 'auto' }, ownersAt: [], at: p };
  if (typeof raw === 'string') {
    return r.fail(p, `"${raw}" is not an approval policy (use auto, or a map with approvers: or stages:)`);
  }
  const m = r.map(p, raw, 'auto, or a map with approvers: or stages:');
  if (!m) return undefined;
  r.keys(p, m, APPROVAL_KEYS);
  const ownersAt: string[] = [];
  let stages: ApprovalStage[] | undefined;
  if (m.approvers !== undefined && m.stages !== undefined) {
    r.fail(p, 'set either approvers (one stage) or stages, not both');
  } else if (m.approvers !== undefined) {
    // Short form: one stage, with an optional quorum.
    stages = stageFrom(r, p, m, ownersAt);
  } else if (m.stages !== undefined) {
    if (m.required !== undefined) r.fail(`${p}.required`, 'belongs inside a stage when stages are listed');
    const list = r.list(`${p}.stages`, m.stages, 'stage');
    const parsed = list?.map((s, i) => {
      const sp = `${p}.stages[${i}]`;
      const sm = r.map(sp, s, 'a map with approvers: and optional required:');
      if (!sm) return undefined;
      r.keys(sp, sm, STAGE_KEYS);
      return stageFrom(r, sp, sm, ownersAt)?.[0];
    });
    if (parsed && parsed.every((s): s is ApprovalStage => s !== undefined)) stages = parsed;
  } else {
    r.fail(p, 'needs approvers: [...] (one stage) or stages: [...] (or use approval: auto)');
  }

  const fallback = m.fallback === undefined ? [] : approvers(r, `${p}.fallback`, m.fallback, ownersAt, true);
  const escalateTo = m.escalateTo === undefined ? [] : approvers(r, `${p}.escalateTo`, m.escalateTo, ownersAt, true);
  const remindAfterMs = r.span(`${p}.remindAfter`, m.remindAfter);
  const escalateAfterMs = r.span(`${p}.escalateAfter`, m.escalateAfter);
  const timeoutMs = r.span(`${p}.timeout`, m.timeout);
  // Escalation needs both halves: when, and to whom; one alone would silently do nothing.
  if (m.escalateAfter !== undefined && m.escalateTo === undefined) r.fail(`${p}.escalateAfter`, 'set escalateTo too (who is asked after escalateAfter)');
  if (m.escalateTo !== undefined && m.escalateAfter === undefined) r.fail(`${p}.escalateTo`, 'set escalateAfter too (how long to wait before escalating)');

  if (!stages || !fallback || !escalateTo || remindAfterMs === null || escalateAfterMs === null || timeoutMs === null) return undefined;
  const policy: StagedPolicy = { kind: 'stages', stages, fallback, escalateTo };
  if (remindAfterMs !== undefined) policy.remindAfterMs = remindAfterMs;
  if (escalateAfterMs !== undefined) policy.escalateAfterMs = escalateAfterMs;
  if (timeoutMs !== undefined) policy.timeoutMs = timeoutMs;
  return { policy, ownersAt, at: p };
}

/** One stage from a map holding `approvers` and optional `required` (returned as a 1-tuple). */
function stageFrom(r: Reader, p: string, m: Obj, ownersAt: string[]): [ApprovalStage] | undefined {
  const refs = m.approvers === undefined ? r.fail(`${p}.approvers`, `required (${APPROVER_HINT})`) : approvers(r, `${p}.approvers`, m.approvers, ownersAt, true);
  let required = 1;
  if (m.required !== undefined) {
    const n = typeof m.required === 'string' && /^[0-9]{1,4}$/.test(m.required) ? Number(m.required) : NaN;
    if (!Number.isInteger(n) || n < 1) return r.fail(`${p}.required`, `${show(m.required)} is not a whole number of at least 1`);
    required = n;
  }
  if (!refs) return undefined;
  // Only a stage made only of emails has a known size; a group, owners or manager may resolve
  // to more people than are listed.
  if (refs.every((a) => a.kind === 'email') && required > refs.length) {
    return r.fail(`${p}.required`, `${required} but the stage lists only ${refs.length} approver${refs.length === 1 ? '' : 's'}`);
  }
  return [{ approvers: refs, required }];
}

/** A list of approver refs (or reviewers: the same forms); `ownersAt` collects where `owners` is used. */
export function approvers(r: Reader, p: string, raw: unknown, ownersAt: string[], nonEmpty: boolean, noun = 'approver'): ApproverRef[] | undefined {
  if (!Array.isArray(raw)) return r.fail(p, `must be a list of ${noun}s, e.g. [owners] (${APPROVER_HINT})`);
  if (nonEmpty && raw.length === 0) return r.fail(p, `must list at least one ${noun} (${APPROVER_HINT})`);
  const out: ApproverRef[] = [];
  const seen = new Set<string>();
  let bad = false;
  raw.forEach((item, i) => {
    const ip = `${p}[${i}]`;
    const ref = approver(r, ip, item);
    if (!ref) return void (bad = true);
    const key = ref.kind === 'email' ? ref.email : ref.kind === 'slackGroup' ? `slack-group:${ref.group}` : ref.kind;
    if (seen.has(key)) return void (bad = r.fail(ip, `"${key}" is listed twice`) ?? true);
    seen.add(key);
    if (ref.kind === 'owners') ownersAt.push(ip);
    out.push(ref);
  });
  return bad ? undefined : out;
}

function approver(r: Reader, p: string, raw: unknown): ApproverRef | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return r.fail(p, `${show(raw)} is not an approver (${APPROVER_HINT})`);
  const s = raw.trim();
  if (s === 'owners') return { kind: 'owners' };
  if (s === 'manager') return { kind: 'manager' };
  if (s.startsWith('slack-group:')) {
    // A leading @ is how people write handles in Slack; the API wants the bare handle.
    const group = s.slice('slack-group:'.length).trim().replace(/^@/, '');
    if (!group || /\s/.test(group)) return r.fail(p, `"${s}" is not a Slack user group (use slack-group:<handle or id>, e.g. slack-group:security)`);
    return { kind: 'slackGroup', group };
  }
  if (s.includes('@')) {
    if (!EMAIL_RE.test(s)) return r.fail(p, `"${s}" is not an email address`);
    return { kind: 'email', email: s.toLowerCase() };
  }
  return r.fail(p, `"${s}" is not an approver (${APPROVER_HINT}${suggest(s, ['owners', 'manager', 'slack-group:'])})`);
}

/** `owners` (used at `ownersAt`) where the application is known: one line per use. */
export function checkOwners(r: Reader, ownersAt: readonly string[], owners: string[]): void {
  if (owners.length > 0) return;
  for (const at of ownersAt) r.fail(at, '"owners" but the application has no owners (add owners: [...] to it)');
}
