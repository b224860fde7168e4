/**
 * The two checks of who holds access, each on a node-cron schedule:
 *
 * - Inactivity reclaim (`RECLAIM_SCHEDULE`, default hourly at :41): for every holding of a role
 *   with `reclaim:` (app/reclaim.ts), the holder's last sign-in is read from the role's connector
 *   and the holding decided: warned, left alone, warning withdrawn, or revoked.
 * - Account status (`OFFBOARDING_SCHEDULE`, default every 15 minutes): every holder of a grant
 *   (approved or active) is looked up in the grant's connector, where it can tell account status;
 *   so is everyone else a pending request waits on (its requester, who asked on their behalf, the
 *   approvers its stage still waits for), in the request's connector. Someone deactivated,
 *   suspended or deleted there is offboarded (app/offboard.ts). A check that finds most of those
 *   it read gone at once is not acted on (domain/offboarding.ts): admins are told.
 *
 * Both are gentle (jobs/patience.ts: one call at a time, rate limits waited out, a turn left to
 * Slack between holders), never overlap themselves, and record each holding in a transaction of
 * its own, so a stop or a crash part-way loses nothing: the next run picks up the rest. Failures
 * to read a connector are counted and told to ADMIN_CHANNEL once per run, one line per connector.
 * A scheduled run is run by the one replica that claims its tick (jobs/runClaims.ts); a run by
 * hand (`reclaim()`, `checkAccounts()`) always runs.
 */
import { schedule, type ScheduledTask } from 'node-cron';
import { alertAdmins, type Deps } from '../app/context.js';
import { offboardPerson, type OffboardResult } from '../app/offboard.js';
import type { GroupListing } from '../app/ports/groupMembers.js';
import { CAPABILITY_WORDS, hasCapability, type IdpConnectorWith, type IdpUser } from '../app/ports/idp.js';
import type { PendingParty } from '../app/ports/store.js';
import { applyReclaim, reclaimHoldings, type ReclaimOutcome } from '../app/reclaim.js';
import { hasLeft, looksLikeMassDeparture, type AccountStatus, type Departure } from '../domain/offboarding.js';
import { Patience, Stopped, type PatienceOptions } from './patience.js';
import { JOBS, runClaimed, type RunClaims } from './runClaims.js';

export const DEFAULT_RECLAIM_SCHEDULE = '41 * * * *';
export const DEFAULT_OFFBOARDING_SCHEDULE = '*/15 * * * *';

export type HolderChecksDeps = Deps<'store' | 'catalog' | 'now' | 'people' | 'logger' | 'adminChannel' | 'connectors'>;

export interface HolderChecksOptions extends PatienceOptions {
  /** node-cron expressions, or `off` (the runs still work by hand). */
  reclaimSchedule?: string;
  offboardingSchedule?: string;
}

/** What could not be checked on a connector (holdings, or accounts), with the first cause. */
export interface Failed {
  connector: string;
  count: number;
  cause: string;
}

export interface ReclaimRun {
  /** Holdings whose last sign-in was read, by what came of them. */
  outcomes: Partial<Record<ReclaimOutcome, number>>;
  /** Holdings that could not be checked, by connector. */
  failed: Failed[];
  /** Standing members left out because the listing gave no email to warn. */
  unreachable: number;
}

export interface OffboardingRun {
  /** Accounts whose status was read: holders', and those of people pending requests wait on. */
  checked: number;
  /** People found gone (deactivated, suspended, deleted). */
  gone: number;
  offboarded: OffboardResult;
  /** Accounts that could not be checked (read, or looked up by email), by connector. */
  failed: Failed[];
  /** Set when the run found too many gone to act on. */
  refused?: string;
}

/** Counts failures per connector, keeping the first cause. */
class Failures {
  private readonly by = new Map<string, { count: number; cause: string }>();

  add(connector: string, err: unknown): void {
    const f = this.by.get(connector);
    if (f) f.count += 1;
    else this.by.set(connector, { count: 1, cause: err instanceof Error ? err.message : String(err) });
  }

  list(): Failed[] {
    return [...this.by].map(([connector, f]) => ({ connector, ...f }));
  }
}

/** What paging stops at: a page shorter than this is the last. */
const PAGE = 500;

/** The departure an account's status tells, if it tells one. */
function departureOf(connector: string, status: AccountStatus): Departure | undefined {
  return hasLeft(status) ? { source: 'idp', connector, state: status.state, ...(status.detail ? { detail: status.detail } : {}) } : undefined;
}

export class HolderChecks {
  private readonly patience: Patience;
  private readonly tasks: ScheduledTask[] = [];
  private reclaiming: Promise<ReclaimRun> | undefined;
  private checking: Promise<OffboardingRun> | undefined;

  constructor(
    private readonly deps: HolderChecksDeps,
    private readonly groups: GroupListing,
    private readonly claims: RunClaims,
    private readonly o: HolderChecksOptions = {},
  ) {
    this.patience = new Patience(o);
  }

  start(): void {
    this.patience.start();
    const reclaim = this.o.reclaimSchedule ?? DEFAULT_RECLAIM_SCHEDULE;
    const offboarding = this.o.offboardingSchedule ?? DEFAULT_OFFBOARDING_SCHEDULE;
    // node-cron's `date` is the tick the run is for (not when the callback ran): the slot every replica names alike.
    if (reclaim !== 'off') this.tasks.push(schedule(reclaim, (c) => void this.scheduledReclaim(c.date.getTime()).catch((err: unknown) => this.failed('reclaim', err))));
    if (offboarding !== 'off') this.tasks.push(schedule(offboarding, (c) => void this.scheduledCheck(c.date.getTime()).catch((err: unknown) => this.failed('account-status check', err))));
  }

  /** Stops the schedules and the runs in progress (between holders), and waits for them to end. */
  async stop(): Promise<void> {
    this.patience.stop();
    for (const t of this.tasks.splice(0)) void t.stop();
    await Promise.all([this.reclaiming?.catch(() => undefined), this.checking?.catch(() => undefined)]);
  }

  /** One inactivity-reclaim pass; joins the pass in progress if there is one. */
  reclaim(): Promise<ReclaimRun> {
    this.reclaiming ??= this.reclaimPass().finally(() => {
      this.reclaiming = undefined;
    });
    return this.reclaiming;
  }

  /** One account-status pass over the holders of grants and those pending requests wait on; joins the pass in progress if there is one. */
  checkAccounts(): Promise<OffboardingRun> {
    this.checking ??= this.accountsPass().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  /** The reclaim pass of a schedule tick (`slot`, epoch ms) if this replica claims it; undefined when another did, or a pass is running here. */
  scheduledReclaim(slot: number): Promise<ReclaimRun | undefined> {
    return runClaimed(this.claims, JOBS.reclaim, slot, this.reclaiming !== undefined, () => this.reclaim());
  }

  /** The account-status pass of a schedule tick (`slot`, epoch ms) if this replica claims it; undefined when another did, or a pass is running here. */
  scheduledCheck(slot: number): Promise<OffboardingRun | undefined> {
    return runClaimed(this.claims, JOBS.accountStatus, slot, this.checking !== undefined, () => this.checkAccounts());
  }

  private failed(what: string, err: unknown): void {
    this.deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`);
  }

  private async reclaimPass(): Promise<ReclaimRun> {
    const { holdings, unreachable } = reclaimHoldings(this.deps, this.groups);
    const outcomes: Partial<Record<ReclaimOutcome, number>> = {};
    const failures = new Failures();
    try {
      for (const h of holdings) {
        const c = this.deps.connectors[h.connector];
        if (!c || !hasCapability(c, 'loginActivity')) {
          failures.add(h.connector, c ? `the connector cannot ${CAPABILITY_WORDS.loginActivity}` : 'the connector is not configured');
          continue;
        }
        let last: number | null;
        try {
          last = await this.patience.call(() => c.lastLoginOf(h.idpUserId));
        } catch (err) {
          if (err instanceof Stopped) throw err;
          failures.add(h.connector, err);
          continue;
        }
        const outcome = applyReclaim(this.deps, h, last);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        await this.patience.yieldTurn();
      }
    } catch (err) {
      if (!(err instanceof Stopped)) throw err;
    }
    const run = { outcomes, failed: failures.list(), unreachable };
    this.tell('Inactivity reclaim could not read the last sign-in of some holders', ['holder', 'holders'], run.failed);
    this.deps.logger.info(run, 'inactivity reclaim: pass done');
    return run;
  }

  private async accountsPass(): Promise<OffboardingRun> {
    const holders = this.holdersByAccount();
    const failures = new Failures();
    const gone = new Map<number, Departure>();
    let checked = 0;
    const found = (personIds: Iterable<number>, connector: string, status: AccountStatus) => {
      checked += 1;
      const d = departureOf(connector, status);
      if (d) for (const id of personIds) if (!gone.has(id)) gone.set(id, d);
    };
    // Each person once per connector: a holder's account there says it for their pending requests too.
    const covered = new Set<string>();
    try {
      for (const h of holders.values()) {
        const c = this.deps.connectors[h.connector];
        // Connectors that cannot tell account status are not checked: their holders are known elsewhere or not at all.
        if (!c || !hasCapability(c, 'accountStatus')) continue;
        for (const id of h.personIds) covered.add(`${id}\u0000${h.connector}`);
        try {
          const status = await this.patience.call(() => c.accountStatus(h.idpUserId));
          found(h.personIds, h.connector, status);
        } catch (err) {
          if (err instanceof Stopped) throw err;
          failures.add(h.connector, err);
        }
        await this.patience.yieldTurn();
      }
      // Then those who hold nothing there but whom a pending request waits on: leaving, they
      // leave it waiting (the Slack path finds them by the event; this one by the IdP).
      for (let after = 0; ; ) {
        const page = this.deps.store.pendingParties(after, PAGE);
        for (const p of page) {
          for (const a of p.accounts) {
            const c = this.deps.connectors[a.connector];
            if (gone.has(p.personId) || covered.has(`${p.personId}\u0000${a.connector}`) || !c || !hasCapability(c, 'accountStatus')) continue;
            try {
              const status = await this.partyStatus(c, a.connector, p, a.idpUserId);
              if (status) found([p.personId], a.connector, status);
            } catch (err) {
              if (err instanceof Stopped) throw err;
              failures.add(a.connector, err);
            }
            await this.patience.yieldTurn();
          }
        }
        if (page.length < PAGE) break;
        after = page.at(-1)!.personId;
      }
    } catch (err) {
      if (!(err instanceof Stopped)) throw err;
    }
    const offboarded: OffboardResult = { revoked: 0, cancelled: 0, approvals: 0, rerouted: 0 };
    const run: OffboardingRun = { checked, gone: gone.size, offboarded, failed: failures.list() };
    if (looksLikeMassDeparture(checked, gone.size)) {
      run.refused = `${gone.size} of ${checked} accounts checked look gone at once; nobody was offboarded. Check the connectors' answers, then run the check again.`;
      this.deps.store.tx((tx) => alertAdmins({ store: tx, adminChannel: this.deps.adminChannel }, `Account-status check: ${run.refused}`));
    } else {
      for (const [personId, departure] of gone) {
        const r = offboardPerson(this.deps, { personId, departure });
        for (const k of Object.keys(offboarded) as (keyof OffboardResult)[]) offboarded[k] += r[k];
      }
    }
    this.tell('The account-status check could not read some accounts', ['account', 'accounts'], run.failed);
    this.deps.logger.info(run, 'account-status check: pass done');
    return run;
  }

  /** Each (connector, IdP user) holding a grant once, with the people it stands for. */
  private holdersByAccount(): Map<string, { connector: string; idpUserId: string; personIds: Set<number> }> {
    const holders = new Map<string, { connector: string; idpUserId: string; personIds: Set<number> }>();
    for (let after = ''; ; ) {
      const page = this.deps.store.holdings(after, PAGE);
      for (const r of page) {
        const key = `${r.connector}\u0000${r.idpUserId}`;
        const h = holders.get(key) ?? { connector: r.connector, idpUserId: r.idpUserId!, personIds: new Set<number>() };
        h.personIds.add(r.requesterId);
        holders.set(key, h);
      }
      if (page.length < PAGE) break;
      after = page.at(-1)!.id;
    }
    return holders;
  }

  /**
   * The status of the account of someone a pending request waits on, in its connector: by the IdP
   * user id known for them there, else found by their email (the id is then recorded, so that an
   * account deactivated later, which some directories no longer find by email, is still read).
   * Undefined when the IdP knows no account by that email, or cannot look one up: unknown is not
   * deactivated (an approver in another directory, an address that is a list), and nothing is
   * done about them.
   */
  private async partyStatus(c: IdpConnectorWith<'accountStatus'>, connector: string, p: PendingParty, knownId: string | null): Promise<AccountStatus | undefined> {
    const byEmail = async (): Promise<IdpUser | undefined> => {
      if (p.email === null || !hasCapability(c, 'userDirectory')) return undefined;
      const email = p.email;
      const user = await this.patience.call(() => c.findUserByEmail(email));
      if (user && user.id !== knownId) this.deps.store.tx((tx) => tx.setIdpUserId(p.personId, connector, user.id, this.deps.now()));
      return user;
    };
    if (knownId === null) {
      const user = await byEmail();
      // Unknown ≠ deactivated: no account by that email is no departure.
      return user && (await this.patience.call(() => c.accountStatus(user.id)));
    }
    const status = await this.patience.call(() => c.accountStatus(knownId));
    if (!hasLeft(status)) return status;
    // The id known may be of an account since replaced (someone re-hired, re-provisioned): their
    // email decides. One that leads nowhere (Okta does not find DEPROVISIONED users by email)
    // leaves the known account's word standing.
    const now = await byEmail();
    return now && now.id !== knownId ? await this.patience.call(() => c.accountStatus(now.id)) : status;
  }

  /** One admin alert for a run's failures, a line per connector. */
  private tell(head: string, [one, many]: [string, string], failed: Failed[]): void {
    if (failed.length === 0) return;
    const lines = failed.map((f) => `${f.connector}: ${f.count} ${f.count === 1 ? one : many} not checked (${f.cause})`);
    this.deps.store.tx((tx) => alertAdmins({ store: tx, adminChannel: this.deps.adminChannel }, [`${head}; they are checked again next run:`, ...lines].join('\n')));
  }
}
