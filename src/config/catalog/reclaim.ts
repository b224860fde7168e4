/**
 * `reclaim: { after: 60d, warn: 7d }` on an application or a role (the role's wins; `reclaim: off`
 * on a role opts it out of its application's): access unused for `after` is taken back, its
 * holder warned `warn` before (domain/reclaim.ts). Unused means no sign-in in the IdP, so the
 * role's connector must be able to tell a user's last sign-in (the `loginActivity` capability).
 */
import { hasCapability } from '../../app/ports/idp.js';
import type { GrantTarget } from '../../domain/catalog.js';
import { reclaimPolicyProblem, type ReclaimPolicy } from '../../domain/reclaim.js';
import type { Instances } from './grant.js';
import { type Reader, show } from './reader.js';

const RECLAIM_KEYS = ['after', 'warn'] as const;

/** An application's or role's `reclaim:`. undefined: not given; 'off': opted out; null: an error was reported. */
export function reclaim(r: Reader, p: string, raw: unknown): ReclaimPolicy | 'off' | undefined | null {
  if (raw === undefined) return undefined;
  if (raw === 'off') return 'off';
  const m = r.map(p, raw, 'a map with after: and warn: (e.g. { after: 60d, warn: 7d }), or off');
  if (!m) return null;
  r.keys(p, m, RECLAIM_KEYS);
  const missing = RECLAIM_KEYS.filter((k) => m[k] === undefined);
  for (const k of missing) r.fail(`${p}.${k}`, `required (e.g. reclaim: { after: 60d, warn: 7d })`);
  const afterMs = r.span(`${p}.after`, m.after);
  const warnMs = r.span(`${p}.warn`, m.warn);
  if (missing.length > 0 || afterMs === null || afterMs === undefined || warnMs === null || warnMs === undefined) return null;
  const policy = { afterMs, warnMs };
  const problem = reclaimPolicyProblem(policy);
  if (problem) return r.fail(p, `${problem} (after ${show(m.after)}, warn ${show(m.warn)})`) ?? null;
  return policy;
}

/**
 * The role's reclaim policy: its own, else its application's. A role whose connector cannot tell
 * last sign-ins is an error naming the connector (and where an inherited policy came from).
 */
export function roleReclaim(
  r: Reader,
  p: string,
  own: ReclaimPolicy | 'off' | undefined,
  app: { policy: ReclaimPolicy | undefined; at: string },
  target: GrantTarget | undefined,
  instances: Instances,
): ReclaimPolicy | undefined | null {
  const policy = own === 'off' ? undefined : (own ?? app.policy);
  if (!policy || !target) return policy;
  const d = instances.byName.get(target.connector);
  if (d && !hasCapability(d.prototype, 'loginActivity')) {
    const from = own === undefined ? ` (inherited from ${app.at}; set reclaim: off on the role to opt out)` : '';
    return r.fail(`${p}.reclaim`, `the role's connector ${target.connector} (${d.label}) cannot tell when a user last signed in, so its access cannot be reclaimed for inactivity${from}; connectors that can: okta, entra, google, atlassian-org`) ?? null;
  }
  return policy;
}
