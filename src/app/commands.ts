/**
 * The read-only `/access` subcommands: `list` (my pending requests and active grants) and
 * `status ACC-12`. Answered privately, through the outbox like every reply.
 */
import { samePerson, type PersonRef } from '../domain/people.js';
import type { RequestName } from '../domain/command.js';
import { describeState } from '../domain/lifecycle.js';
import { inTx, type Deps, type Tx } from './context.js';
import type { ReplyTarget } from './decide.js';
import { enqueue } from './effects.js';
import { approverRef, requesterRef } from './people.js';
import { findNamed, keyOf, notYours, requestLine } from './requestView.js';
import type { RequestRecord } from './ports/store.js';

/** How many of a person's requests `/access list` reads (newest first). */
const LIST_SCAN = 200;

export function reply(ctx: Pick<Tx, 'store'>, to: ReplyTarget, text: string): void {
  enqueue(ctx.store, { kind: 'slack.ephemeral', user: to.user, channel: to.channel, responseUrl: to.responseUrl, text });
}

/** The person behind a Slack user, if access-bot has seen them. */
export function personOf(ctx: Pick<Tx, 'store'>, slackId: string): PersonRef {
  const p = ctx.store.personBySlackId(slackId);
  return p ? { id: p.id, slackId, email: p.email } : { slackId };
}

export function isRequester(r: RequestRecord, me: PersonRef): boolean {
  return samePerson(requesterRef(r), me);
}

/** Pending requests and active grants of a person, newest first. */
export function openRequestsOf(ctx: Pick<Tx, 'store'>, me: PersonRef): RequestRecord[] {
  if (me.id === undefined) return [];
  return ctx.store.requestsOf(me.id, LIST_SCAN).filter((r) => r.state === 'pending' || r.state === 'approved' || r.state === 'active');
}

/** What the read-only subcommands read: the store and the clock. */
export type CommandDeps = Deps<'store' | 'now'>;

export function listMine(deps: CommandDeps, input: { actorSlackId: string; reply: ReplyTarget }): void {
  deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const mine = openRequestsOf(ctx, personOf(ctx, input.actorSlackId));
    const text =
      mine.length === 0
        ? 'You have no pending requests and no active access. Type /access to request some.'
        : ['Your pending requests and active access:', ...mine.map((r) => `• ${requestLine(ctx, r)}`)].join('\n');
    reply(ctx, input.reply, text);
  });
}

export function statusOf(deps: CommandDeps, input: { actorSlackId: string; request: RequestName; reply: ReplyTarget }): void {
  deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const me = personOf(ctx, input.actorSlackId);
    const r = findNamed(ctx, input.request);
    // The requester and the request's approvers may look; for anyone else it does not exist.
    const mayLook = r && (isRequester(r, me) || ctx.store.approversOf(r.id).some((a) => samePerson(approverRef(a), me)));
    if (!r || !mayLook) return reply(ctx, input.reply, notYours(input.request));
    reply(ctx, input.reply, `${requestLine(ctx, r)}\n${keyOf(r)} is ${describeState(r.state)}.`);
  });
}
