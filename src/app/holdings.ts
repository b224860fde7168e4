/**
 * What a person holds, as the removal and change forms list it (domain/removal.ts): the active
 * grants access-bot made them, and the catalog roles whose group the user sync last saw them in.
 */
import { holdingsOf, type Holding } from '../domain/removal.js';
import type { Deps } from './context.js';
import type { PersonId } from '../domain/people.js';
import type { TxStore } from './ports/store.js';

/** How many of a person's requests are read for their active grants (newest first). */
const SCAN = 200;

/** `person.id` absent: someone access-bot has no record of yet (their standing access only, by email). */
export function holdingsOfPerson(ctx: Deps<'catalog'> & { store: Pick<TxStore, 'requestsOf' | 'seenMembershipsOf'> }, person: { id?: PersonId; email: string | null }): Holding[] {
  const grants =
    person.id === undefined
      ? []
      : ctx.store
          .requestsOf(person.id, SCAN)
          // Inactivity reclaim's record of standing access is no grant: the user sync lists it as standing access.
          .filter((r) => r.state === 'active' && r.origin === 'request')
          .map((r) => ({ requestId: r.id, jiraKey: r.jiraKey, appId: r.appId, roleId: r.roleId, expiresAt: r.expiresAt }));
  return holdingsOf(ctx.catalog(), grants, ctx.store.seenMembershipsOf(person.id ?? null, person.email));
}

/** What a Slack user holds: `email` as the directory gave it now (their record may not know it yet). */
export function holdingsOfSlackUser(ctx: Deps<'catalog'> & { store: Pick<TxStore, 'requestsOf' | 'seenMembershipsOf' | 'personBySlackId'> }, slackId: string, email: string | undefined): Holding[] {
  const p = ctx.store.personBySlackId(slackId);
  return holdingsOfPerson(ctx, { ...(p ? { id: p.id } : {}), email: email ?? p?.email ?? null });
}
