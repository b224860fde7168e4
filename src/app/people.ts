/**
 * People: who someone is, resolved in one place. The use cases ask this service "who is this
 * Slack user / this email / whose manager is this" and get a person with the account facts the
 * guest rules need (domain/people.ts); nothing else in app/ calls Slack's directory or the
 * manager source. What is learned is recorded on the person (the people table is the lasting
 * record of who is who: email, Slack id, accountId, IdP ids), inside the caller's transaction.
 *
 * Two kinds of method, kept apart on purpose:
 *   - lookups (async) call the directory: Slack's users.info with the gateway's click-time cache,
 *     users.lookupByEmail, user groups, and MANAGER_SOURCE;
 *   - recording (sync) reads and writes only through the caller's transaction handle, so it may
 *     run on the ack path.
 */
import type { Logger } from 'pino';
import type { PersonRef } from '../domain/people.js';
import type { Actor } from '../domain/steps.js';
import type { DirectoryUser, JiraAccount, JiraAccounts, SlackDirectory } from './ports/directory.js';
import type { IdpConnectorWith } from './ports/idp.js';
import type { ApproverRecord, PersonFacts, PersonRecord, RequestRecord, TxStore } from './ports/store.js';

/** How long a command or click waits for users.info (the gateway caches it for a minute). */
export const ACTOR_LOOKUP_BUDGET_MS = 1500;

/** What the directory said about someone acting now, or why it could not say in time. */
export type AccountLookup = { ok: true; user: DirectoryUser } | { ok: false; cause: 'not_found' | 'unavailable' };

/**
 * Someone acting (requesting, deciding, revoking, reviewing), resolved before a use case runs.
 * A Slack click is resolved from the clicker's Slack id; a status change made in Jira from the
 * accountId (app/jiraStatus.ts), into the same shape.
 */
export interface ActingPerson {
  /**
   * How the rules recognise them among a request's people (domain/people.ts samePerson). A Slack
   * user is recognised by the Slack id the signed request names, which the directory vouches for.
   */
  ref: PersonRef;
  /** How audit rows name them (a Slack user by Slack id, as before). */
  label: string;
  /** The audit actor of a refusal. */
  actor: Actor;
  /** Their account as the directory knows it now: the guest rules read it. */
  account: AccountLookup;
}

export interface PeopleDeps {
  slack: SlackDirectory;
  /** Jira's accounts: who raised a request in Jira (their reporter's accountId). */
  jira?: JiraAccounts;
  /** Where `manager` comes from (MANAGER_SOURCE); its capabilities are checked at start-up. */
  managerSource?: IdpConnectorWith<'userDirectory' | 'managerSource'>;
  logger: Logger;
}

export class People {
  constructor(private readonly deps: PeopleDeps) {}

  // ---- lookups (call the directory) ----------------------------------------------------------

  /**
   * A Slack user who is acting now, as users.info says (never as a payload names them), within a
   * budget that leaves room for Slack's 3 seconds. Never throws: a lookup that failed or came too
   * late is `unavailable`. No database read, so the click path stays one transaction.
   */
  async slackActor(slackId: string, budgetMs = ACTOR_LOOKUP_BUDGET_MS): Promise<ActingPerson> {
    return { ref: { slackId }, label: slackId, actor: { slackId }, account: await this.lookUpAccount(slackId, budgetMs) };
  }

  /** A Slack user by id; `fresh` skips the click-time cache (who a grant goes to is read fresh). */
  slackUser(slackId: string, opts?: { fresh?: boolean }): Promise<DirectoryUser | undefined> {
    return this.deps.slack.userInfo(slackId, opts);
  }

  /** Slack said this user changed (`user_change`): what the directory cached of them is dropped. */
  forgetSlackUser(slackId: string): void {
    this.deps.slack.forgetUser(slackId);
  }

  /** The active Slack user with this email, if any. */
  byEmail(email: string): Promise<DirectoryUser | undefined> {
    return this.deps.slack.lookupByEmail(email);
  }

  /** The Atlassian account behind an accountId (a Jira reporter); undefined when Jira has none or is not configured. */
  async jiraAccount(accountId: string): Promise<JiraAccount | undefined> {
    return this.deps.jira?.account(accountId);
  }

  /** Member ids of a Slack user group (handle or id); undefined when there is no such group. */
  slackGroupMembers(group: string): Promise<string[] | undefined> {
    return this.deps.slack.usergroupMembers(group);
  }

  /** The connector instance `manager` comes from (MANAGER_SOURCE), if one is configured. */
  get managerSourceName(): string | undefined {
    return this.deps.managerSource?.name;
  }

  /**
   * The manager's email within a budget (a modal waiting for its answer): `unavailable` when the
   * source failed or did not answer in time. Never throws.
   */
  async managerEmailWithin(email: string, budgetMs: number): Promise<{ email: string } | { unresolved: string } | { unavailable: true }> {
    try {
      const answer = await within(this.managerEmailOf(email), budgetMs);
      if (answer === LATE) {
        this.deps.logger.warn({ budgetMs }, 'the manager source did not answer in time');
        return { unavailable: true };
      }
      return answer;
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'the manager source failed');
      return { unavailable: true };
    }
  }

  /** The manager's email from MANAGER_SOURCE, or why there is none. */
  async managerEmailOf(email: string): Promise<{ email: string } | { unresolved: string }> {
    const source = this.deps.managerSource;
    if (!source) return { unresolved: 'manager (no MANAGER_SOURCE configured)' };
    const user = await source.findUserByEmail(email);
    const manager = user ? await source.findManagerEmail(user.id) : undefined;
    return manager ? { email: manager } : { unresolved: `manager (none recorded in ${source.name})` };
  }

  private async lookUpAccount(slackId: string, budgetMs: number): Promise<AccountLookup> {
    const { logger } = this.deps;
    try {
      const user = await within(this.deps.slack.userInfo(slackId), budgetMs);
      if (user === LATE) {
        logger.warn({ user: slackId, budgetMs }, 'users.info did not answer in time');
        return { ok: false, cause: 'unavailable' };
      }
      return user ? { ok: true, user } : { ok: false, cause: 'not_found' };
    } catch (err) {
      logger.warn({ user: slackId, err: (err as Error).message }, 'users.info failed');
      return { ok: false, cause: 'unavailable' };
    }
  }

  // ---- recording (through the caller's transaction: safe on the ack path) -------------------

  /**
   * The person behind a Slack user id, recorded on first sight with no email yet: routing learns
   * it (users.info) later.
   */
  forSlackUser(store: TxStore, slackId: string, at: number): PersonRecord {
    return store.personBySlackId(slackId) ?? store.recordPerson({ slackId }, at);
  }

  /** The person behind a Jira accountId (a reporter), recorded on first sight with no email yet: routing learns it from Jira. */
  forJiraAccount(store: TxStore, accountId: string, at: number): PersonRecord {
    return store.recordPerson({ atlassianAccountId: accountId }, at);
  }

  /** Records what a directory said about someone (merging records that turn out to be one person). */
  record(store: TxStore, facts: PersonFacts, at: number): PersonRecord {
    return store.recordPerson(facts, at);
  }
}

const LATE = Symbol('late');

/** `work`'s answer, or LATE once `budgetMs` passed first (the work goes on, unawaited). */
async function within<T>(work: Promise<T>, budgetMs: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), budgetMs);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The requester as the domain compares people. */
export function requesterRef(r: RequestRecord): PersonRef {
  return { id: r.requesterId, slackId: r.requesterSlackId, email: r.requesterEmail };
}

/** Who asked on the requester's behalf, if someone did. */
export function submitterRef(r: RequestRecord): PersonRef | undefined {
  return r.submitterId === null ? undefined : { id: r.submitterId, slackId: r.submitterSlackId, email: r.submitterEmail };
}

/** The people a request never asks to approve: its requester, and whoever asked on their behalf. */
export function neverApprovers(r: RequestRecord, requesterEmail = r.requesterEmail): PersonRef[] {
  const submitter = submitterRef(r);
  return [{ ...requesterRef(r), email: requesterEmail }, ...(submitter ? [submitter] : [])];
}

export function approverRef(a: ApproverRecord): PersonRef {
  return { id: a.personId, slackId: a.slackId, email: a.email };
}

/** An approver as an audit actor. */
export function approverActor(a: ApproverRecord): Actor {
  return { personId: a.personId, slackId: a.slackId ?? undefined, email: a.email, name: a.name ?? undefined };
}
