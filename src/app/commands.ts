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
import { approverRef, requesterRef, submitterRef } from './people.js';
import { findNamed, keyOf, notYours, onBehalfLine, requestLine } from './requestView.js';
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

/** Whether `me` asked for this request on its requester's behalf. */
export function isSubmitter(r: RequestRecord, me: PersonRef): boolean {
  const submitter = submitterRef(r);
  return submitter !== undefined && samePerson(submitter, me);
}

const OPEN = new Set(['pending', 'approved', 'active']);

/** Pending requests and active grants of a person, newest first. */
export function openRequestsOf(ctx: Pick<Tx, 'store'>, me: PersonRef): RequestRecord[] {
  if (me.id === undefined) return [];
  return ctx.store.requestsOf(me.id, LIST_SCAN).filter((r) => OPEN.has(r.state));
}

/** Pending requests and active grants a person asked for on others' behalf, newest first. */
export function openRequestsFor(ctx: Pick<Tx, 'store'>, me: PersonRef): RequestRecord[] {
  if (me.id === undefined) return [];
  return ctx.store.submittedBy(me.id, LIST_SCAN).filter((r) => OPEN.has(r.state));
}

/** What the read-only subcommands read: the store and the clock. */
export type CommandDeps = Deps<'store' | 'now'>;

export function listMine(deps: CommandDeps, input: { actorSlackId: string; reply: ReplyTarget }): void {
  deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const me = personOf(ctx, input.actorSlackId);
    const mine = openRequestsOf(ctx, me);
    const forOthers = openRequestsFor(ctx, me);
    const lines =
      mine.length === 0
        ? ['You have no pending requests and no active access. Type /access to request some.']
        : ['Your pending requests and active access:', ...mine.map((r) => `• ${requestLine(ctx, r)}`)];
    if (forOthers.length > 0) lines.push('Requests you made for others:', ...forOthers.map((r) => `• ${requestLine(ctx, r, ctx.now(), 'submitter')}`));
    reply(ctx, input.reply, lines.join('\n'));
  });
}

export function statusOf(deps: CommandDeps, input: { actorSlackId: string; request: RequestName; reply: ReplyTarget }): void {
  deps.store.tx((tx) => {
    const ctx = inTx(deps, tx);
    const me = personOf(ctx, input.actorSlackId);
    const r = findNamed(ctx, input.request);
    // The requester, whoever asked on their behalf and the request's approvers may look; for
    // anyone else it does not exist.
    const mayLook = r && (isRequester(r, me) || isSubmitter(r, me) || ctx.store.approversOf(r.id).some((a) => samePerson(approverRef(a), me)));
    if (!r || !mayLook) return reply(ctx, input.reply, notYours(input.request));
    const lines = [requestLine(ctx, r, ctx.now(), isRequester(r, me) ? 'requester' : 'submitter'), onBehalfLine(r), `${keyOf(r)} is ${describeState(r.state)}.`];
    reply(ctx, input.reply, lines.filter((l) => l !== undefined).join('\n'));
  });
}
