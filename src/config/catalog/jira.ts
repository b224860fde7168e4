/**
 * The catalog's `jira:` section: the project, the issue type, the transitions by request state,
 * intake (intake.ts) and what statuses mean (statuses.ts).
 */
import type { Catalog, JiraTransitionState } from '../../domain/catalog.js';
import { intake } from './intake.js';
import { type Reader, oneOf, suggest } from './reader.js';
import { statuses } from './statuses.js';

const JIRA_KEYS = ['project', 'issueType', 'transitions', 'intake', 'statuses'] as const;
const TRANSITION_STATES: readonly JiraTransitionState[] = ['approved', 'denied', 'active', 'revoked', 'cancelled', 'timed_out', 'failed'];
const JIRA_KEY_RE = /^[A-Z][A-Z0-9_]+$/;

export function jira(r: Reader, raw: unknown): Catalog['jira'] | undefined {
  if (raw === undefined) return r.fail('jira', 'required (e.g. jira: { project: ACC })');
  const m = r.map('jira', raw, 'a map with project:');
  if (!m) return undefined;
  r.keys('jira', m, JIRA_KEYS);
  let project = r.str('jira.project', m.project, 'the Jira project key, e.g. ACC');
  if (project !== undefined && !JIRA_KEY_RE.test(project)) {
    project = r.fail('jira.project', `"${project}" is not a Jira project key (capital letters, digits and _, starting with a letter, e.g. ACC)`);
  }
  const issueType = m.issueType === undefined ? 'Task' : r.str('jira.issueType', m.issueType, 'an issue type name, e.g. Task');
  const transitions: Catalog['jira']['transitions'] = {};
  if (m.transitions !== undefined) {
    const t = r.map('jira.transitions', m.transitions, 'a map of request state to Jira transition name');
    for (const [state, name] of Object.entries(t ?? {})) {
      const p = `jira.transitions.${state}`;
      if (!(TRANSITION_STATES as readonly string[]).includes(state)) {
        r.fail(p, `"${state}" is not a request state (${oneOf(TRANSITION_STATES)}${suggest(state, TRANSITION_STATES)})`);
        continue;
      }
      const n = r.str(p, name, 'the name of a Jira transition');
      if (n !== undefined) transitions[state as JiraTransitionState] = n;
    }
  }
  const intakeSection = m.intake === undefined ? undefined : intake(r, m.intake);
  const meanings = statuses(r, m.statuses);
  if (project === undefined || issueType === undefined || (m.intake !== undefined && !intakeSection) || meanings === null) return undefined;
  return { project, issueType, transitions, ...(intakeSection ? { intake: intakeSection } : {}), ...(meanings ? { statuses: meanings } : {}) };
}
