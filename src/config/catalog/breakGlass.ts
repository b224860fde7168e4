/** A role's `breakGlass:` block: immediate access, an alert, and a review afterwards. */
import type { ApproverRef, BreakGlass } from '../../domain/catalog.js';
import { approvers, checkOwners } from './policy.js';
import { type Reader, show } from './reader.js';

const BREAK_GLASS_KEYS = ['notify', 'minReasonLength', 'reviewers'] as const;
const DEFAULT_MIN_REASON = 20;
/** Slack's `plain_text_input` allows min_length up to 3000. */
const MAX_MIN_REASON = 3000;

/** `owners`: the application's, which `reviewers` defaults to. */
export function breakGlass(r: Reader, p: string, raw: unknown, owners: string[]): BreakGlass | undefined {
  const m = r.map(p, raw, 'a map with notify: and optional minReasonLength:, reviewers:');
  if (!m) return undefined;
  r.keys(p, m, BREAK_GLASS_KEYS);
  const notify = r.str(`${p}.notify`, m.notify, 'the Slack channel to alert, e.g. "#security-alerts" or a channel id');
  let minReasonLength = DEFAULT_MIN_REASON;
  let ok = true;
  if (m.minReasonLength !== undefined) {
    const raw = m.minReasonLength;
    const n = typeof raw === 'string' && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
    if (n >= 1 && n <= MAX_MIN_REASON) minReasonLength = n;
    else ok = r.fail(`${p}.minReasonLength`, `${show(raw)} is not a whole number from 1 to ${MAX_MIN_REASON}`) ?? false;
  }
  // Whose Reviewed click counts; by default the application's owners. A review nobody may
  // acknowledge is a catalog mistake, not a silent gap.
  let reviewers: ApproverRef[] | undefined = [{ kind: 'owners' }];
  if (m.reviewers !== undefined) {
    const ownersAt: string[] = [];
    reviewers = approvers(r, `${p}.reviewers`, m.reviewers, ownersAt, true, 'reviewer');
    if (reviewers) checkOwners(r, ownersAt, owners);
  } else if (owners.length === 0) {
    r.fail(`${p}.reviewers`, "required when the application has no owners (reviewers default to the application's owners; add reviewers: [...] or owners: [...])");
    reviewers = undefined;
  }
  return notify === undefined || !ok || !reviewers ? undefined : { notify, minReasonLength, reviewers };
}
