/**
 * The App Home (issue 17): one place in Slack that answers "what do I have, what am I waiting
 * for, what is waiting for me". Published with views.publish through the outbox, only for people
 * who opened it at least once, and kept current: every write that changes a request re-publishes
 * the Homes of its requester and approvers (the store tells `refreshHomesOf`, inside the writing
 * transaction).
 *
 * Coalesced per person, at most once a second, with no in-memory timer: one `slack.homePublish`
 * waits in the person's queue at a time (it renders the Home as it is when it runs, so later
 * changes need no effect of their own), and it is due no sooner than a second after the last
 * publish was answered. An effect enqueued while a publish runs is held by that publish's
 * completion (`homePublished`), in the transaction that records it. The outbox row is the timer.
 */
import { describeDuration } from '../domain/duration.js';
import { formatTime } from '../domain/steps.js';
import { personOf } from './commands.js';
import type { Deps, Tx } from './context.js';
import { enqueue, homeQueue } from './effects.js';
import { warningExtension } from './extend.js';
import type { RequestRecord, TxStore } from './ports/store.js';
import { describeLeft, keyOf, requestLine, requesterName, submitterName, waitingOn, whatOf } from './requestView.js';

/** Two publishes of one person's Home are at least this far apart. */
export const HOME_MIN_GAP_MS = 1000;
/** The ended requests a Home lists. */
export const HOME_ENDED = 10;
/** How many of each list a Home reads (it shows fewer, and says how many more there are). */
const HOME_SCAN = 1000;

/** Enqueues a publish of the person's Home, unless they never opened it or one is waiting already. */
export function scheduleHome(store: TxStore, now: number, slackId: string): void {
  const home = store.homeOf(slackId);
  if (!home) return;
  const queue = homeQueue(slackId);
  // A waiting publish renders the Home as it is when it runs: this change is in it.
  if (store.openEffectIn(queue) === 'pending') return;
  // Behind a running publish the effect waits its turn, and that publish's completion holds it
  // a second more (homePublished).
  const due = home.publishedAt === null ? now : Math.max(now, home.publishedAt + HOME_MIN_GAP_MS);
  enqueue(store, { kind: 'slack.homePublish', slackId }, due - now);
}

/** The store's watcher: a request changed, so its requester's and approvers' Homes are stale. */
export function refreshHomesOf(store: TxStore, now: number, requestId: string): void {
  for (const slackId of store.homesConcerned(requestId)) scheduleHome(store, now, slackId);
}

/**
 * `app_home_opened` on the Home tab: remembered (from now on the Home is kept current) and
 * published. A delivery seen before (Slack retries with the same event id) changes nothing.
 */
export function homeOpened(ctx: Deps<'store' | 'now'>, input: { slackId: string; eventId: string }): { duplicate: boolean } {
  return ctx.store.tx((store) => {
    const now = ctx.now();
    if (!store.firstDelivery(`slack-event:${input.eventId}`, now)) return { duplicate: true };
    store.recordHomeOpened(input.slackId, now);
    scheduleHome(store, now, input.slackId);
    return { duplicate: false };
  });
}

/** Inside the transaction that marks a publish done: the next one waits a second from now. */
export function homePublished(ctx: Pick<Tx, 'store' | 'now'>, slackId: string): void {
  const now = ctx.now();
  ctx.store.homePublished(slackId, homeQueue(slackId), now, now + HOME_MIN_GAP_MS);
}

/** One line of a Home list, plain text (the Slack adapter escapes it), about one request. */
export interface HomeItem {
  request: RequestRecord;
  text: string;
}

/** A list with the items to show, newest or most urgent first; `total` counts those not shown too. */
export interface HomeList {
  items: HomeItem[];
  total: number;
}

export interface HomeModel {
  /** Requests waiting for approval, or approved and being granted. */
  pending: HomeList;
  /** Active grants (Revoke now; Extend where the catalog allows it, as on the expiry warning) and grants being revoked (no buttons). */
  active: HomeList & { revocable: ReadonlySet<string>; extendable: ReadonlySet<string> };
  /** The last ended requests, with their outcome. */
  ended: HomeList;
  /** Requests whose current stage asks me and that I have not decided. */
  waitingForMe: HomeList;
  /** Active grants I approved. */
  approvedByMe: HomeList;
  /** Requests I asked for on someone else's behalf that are still open (pending, being granted, active). */
  forOthers: HomeList;
}

const ENDED_STATES = new Set(['denied', 'cancelled', 'timed_out', 'revoked', 'failed']);

function list(rs: RequestRecord[], text: (r: RequestRecord) => string, max = rs.length): HomeList {
  return { items: rs.slice(0, max).map((r) => ({ request: r, text: text(r) })), total: rs.length };
}

/**
 * What the person's Home shows now (read-only). `maxPerList` bounds how many items each list
 * renders text for; the Slack view shows fewer still, within Slack's 100 blocks.
 */
export function homeModel(ctx: Deps<'store' | 'now' | 'catalog'>, slackId: string, maxPerList = 50): HomeModel {
  const now = ctx.now();
  const me = personOf(ctx, slackId);
  const mine = me.id === undefined ? [] : ctx.store.requestsOf(me.id, HOME_SCAN);
  const active = mine.filter((r) => r.state === 'active' || r.state === 'revoking');
  const line = (r: RequestRecord) => requestLine(ctx, r, now);
  const awaiting = me.id === undefined ? [] : ctx.store.awaitingDecisionOf(me.id, HOME_SCAN);
  const approved = me.id === undefined ? [] : ctx.store.activeApprovedBy(me.id, HOME_SCAN);
  const submitted = me.id === undefined ? [] : ctx.store.submittedBy(me.id, HOME_SCAN).filter((r) => !ENDED_STATES.has(r.state));
  return {
    pending: list(
      mine.filter((r) => r.state === 'pending' || r.state === 'approved'),
      (r) => (r.state === 'approved' ? `${keyOf(r)}: ${whatOf(r)}: approved, access being ${r.kind === 'removal' ? 'removed' : 'granted'}` : line(r)),
      maxPerList,
    ),
    active: {
      ...list(active, line, maxPerList),
      revocable: new Set(active.filter((r) => r.state === 'active').map((r) => r.id)),
      extendable: new Set(active.filter((r) => extendableNow(ctx, r)).map((r) => r.id)),
    },
    ended: list(
      mine.filter((r) => ENDED_STATES.has(r.state)),
      line,
      HOME_ENDED,
    ),
    waitingForMe: list(
      awaiting,
      (r) => {
        const asked = waitingOn(ctx.store.approversOf(r.id, r.stage), r.stage).find((a) => a.personId === me.id)?.askedAt ?? r.createdAt;
        const what = r.extendsId ? `asks to extend ${r.appName} / ${r.roleName} by ${describeDuration({ token: r.durationToken, ms: r.durationMs })}` : `requests ${whatOf(r)}`;
        const by = submitterName(r);
        const who = by === undefined ? `${requesterName(r)} ${what}` : `${by} ${what} on behalf of ${requesterName(r)}`;
        return `${keyOf(r)}: ${who}, asked ${formatTime(asked)}. Reason: ${r.reason}`;
      },
      maxPerList,
    ),
    approvedByMe: list(
      approved,
      (r) => `${keyOf(r)}: ${requesterName(r)} has ${whatOf(r)}, ${r.expiresAt === null ? 'does not expire' : `until ${formatTime(r.expiresAt)} (${describeLeft(r.expiresAt - now)} left)`}`,
      maxPerList,
    ),
    forOthers: list(submitted, (r) => requestLine(ctx, r, now, 'submitter'), maxPerList),
  };
}

/** An active grant that expires, of a role the catalog lets be extended (Extend asks as the expiry warning's does). */
function extendableNow(ctx: Deps<'catalog'>, r: RequestRecord): boolean {
  return r.state === 'active' && r.expiresAt !== null && !r.extendsId && warningExtension(ctx.catalog(), r) !== undefined;
}
