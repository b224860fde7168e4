/**
 * People: what the app has learned about who someone is is recorded here, on the person (the
 * people table is the lasting record of who is who: email, Slack id, accountId, IdP ids).
 * Slack's directory itself (users.info with its click-time cache, users.lookupByEmail, user
 * groups) is `AppContext.slack`; its answers are recorded through this service, inside the
 * caller's transaction, so nothing here calls anybody.
 */
import type { PersonRef } from '../domain/people.js';
import type { Actor } from '../domain/steps.js';
import type { ApproverRecord, PersonFacts, PersonRecord, RequestRecord, Store } from './ports/store.js';

export class People {
  constructor(private readonly store: Store) {}

  /**
   * The person behind a Slack user id, recorded on first sight with no email yet: routing learns
   * it (users.info) later. No Slack call, so it may run on the ack path.
   */
  forSlackUser(slackId: string, at: number): PersonRecord {
    return this.store.personBySlackId(slackId) ?? this.store.recordPerson({ slackId }, at);
  }

  /** Records what a directory said about someone (merging records that turn out to be one person). */
  record(facts: PersonFacts, at: number): PersonRecord {
    return this.store.recordPerson(facts, at);
  }
}

/** The requester as the domain compares people. */
export function requesterRef(r: RequestRecord): PersonRef {
  return { id: r.requesterId, slackId: r.requesterSlackId, email: r.requesterEmail };
}

export function approverRef(a: ApproverRecord): PersonRef {
  return { id: a.personId, slackId: a.slackId, email: a.email };
}

/** An approver as an audit actor. */
export function approverActor(a: ApproverRecord): Actor {
  return { personId: a.personId, slackId: a.slackId ?? undefined, email: a.email, name: a.name ?? undefined };
}
