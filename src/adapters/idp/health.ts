/**
 * The one health check every connector runs: the credentials first, then each group the catalog
 * names, concurrently. Each connector gives only its two probes and how it words a failure.
 */
import type { HealthReport } from '../../app/ports/idp.js';

export interface HealthProbes {
  /** Proves the credentials work (a token is issued, or a cheap call is accepted); resolves what to show, if anything. */
  credentials(): Promise<string | undefined>;
  /** Reads the group; resolves its display name. A group that does not exist throws. */
  group(group: string): Promise<string | undefined>;
  /** What a failed probe shows: classified as the connector's other calls are, with no secret in it. */
  explain(err: unknown, check: string): string;
  /** Why groups are not checked when the credentials failed, e.g. "no access token". */
  withoutCredentials: string;
}

/** Never throws: every failure is a check in the report. `noun` names what the ids are (an on-call service checks schedules). */
export async function runHealthChecks(probes: HealthProbes, groups: string[], noun = 'group'): Promise<HealthReport> {
  const check = async (name: string, run: () => Promise<string | undefined>): Promise<HealthReport['checks'][number]> => {
    try {
      const detail = await run();
      return detail === undefined ? { name, ok: true } : { name, ok: true, detail };
    } catch (err) {
      return { name, ok: false, detail: probes.explain(err, name) };
    }
  };
  const credentials = await check('credentials valid', () => probes.credentials());
  if (!credentials.ok) {
    return { ok: false, checks: [credentials, ...groups.map((g) => ({ name: `${noun} ${g} exists`, ok: false, detail: `not checked: ${probes.withoutCredentials}` }))] };
  }
  const checks = [credentials, ...(await Promise.all(groups.map((g) => check(`${noun} ${g} exists`, () => probes.group(g)))))];
  return { ok: checks.every((c) => c.ok), checks };
}
