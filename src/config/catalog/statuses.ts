/**
 * The catalog's `jira.statuses`: what a Jira status means to the bot when a person moves a
 * request's issue there (ARCHITECTURE.md §4 "Jira as a surface"). Keyed by meaning, each a status
 * name or a list of them:
 *
 *   statuses:
 *     approved: Approved by Manager
 *     denied: [Rejected, Declined]
 *
 * A status name means one thing only (compared without case): two meanings for one status would
 * make a move ambiguous.
 */
import { STATUS_MEANINGS, type StatusMeaning } from '../../domain/catalog.js';
import type { StatusMap } from '../../domain/jiraStatus.js';
import { type Reader, oneOf, suggest } from './reader.js';

/** `undefined`: not given; `null`: invalid (reported). */
export function statuses(r: Reader, raw: unknown): StatusMap | undefined | null {
  if (raw === undefined) return undefined;
  const m = r.map('jira.statuses', raw, `a map of meaning (${STATUS_MEANINGS.join(', ')}) to a Jira status name or a list of them`);
  if (!m) return null;
  const out: StatusMap = {};
  const owner = new Map<string, string>();
  let bad = false;
  for (const [meaning, value] of Object.entries(m)) {
    const p = `jira.statuses.${meaning}`;
    if (!(STATUS_MEANINGS as readonly string[]).includes(meaning)) {
      bad = r.fail(p, `"${meaning}" is not something a status can mean (${oneOf(STATUS_MEANINGS)}${suggest(meaning, STATUS_MEANINGS)})`) ?? true;
      continue;
    }
    const names = r.words(p, value, 'Jira status names');
    if (!names) {
      bad = true;
      continue;
    }
    for (const [i, name] of names.entries()) {
      const key = name.toLowerCase();
      const first = owner.get(key);
      if (first) bad = r.fail(`${p}${Array.isArray(value) ? `[${i}]` : ''}`, `"${name}" already means ${first === p ? 'this' : `what ${first} says`}: a status means one thing only`) ?? true;
      else owner.set(key, p);
    }
    out[meaning as StatusMeaning] = names;
  }
  return bad ? null : out;
}
