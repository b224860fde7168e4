/**
 * Slack's side of the bot: slash command, modal options and submissions, buttons. Listeners ack
 * first (Slack waits 3 seconds); everything after the ack goes through a use case and its
 * outbox, except `views.open`, which Slack demands while the trigger id lives.
 *
 * Payloads are treated as untrusted even though they are signed: every field is read
 * defensively, and authorisation is decided by the use case, not by what the button carried.
 */
import type { BlockAction, ButtonAction, ViewStateValue } from '@slack/bolt';
import type { View } from '@slack/types';
import type { Logger } from 'pino';
import { actorRefusal, refuseRequester } from '../../app/actor.js';
import { checkMayDecide, decide, refuseIfMayNotDecide } from '../../app/decide.js';
import type { AppContext } from '../../app/context.js';
import { reviewBreakGlass } from '../../app/review.js';
import { revokeNow } from '../../app/revokeNow.js';
import { extendFromWarning } from '../../app/extend.js';
import { formErrors, submitRequest } from '../../app/submitRequest.js';
import { MAX_REASON_LENGTH } from '../../domain/submission.js';
import { checkOnBehalf, type OnBehalfRequest } from '../../app/onBehalf.js';
import { accessHelp, parseAccessCommand } from '../../domain/command.js';
import { runSubcommand } from '../../app/subcommands.js';
import { ACTOR_LOOKUP_BUDGET_MS } from '../../app/people.js';
import { RetryableError } from '../../outbox/errors.js';
import { applicationMenu, denyModal, escapeMrkdwn, durationOptions, IDS, requestModal, requestSummary, roleOptions } from './blocks.js';
import type { SlackApi } from './api.js';
import type { SlackListenerRegistry } from './inbound.js';
import { registerHomeListeners } from './homeListeners.js';
import { registerReviewListeners } from './reviewListeners.js';
import { openKindModal, registerKindListeners } from './kindListeners.js';
import { registerReclaimListeners } from './reclaimListeners.js';
import type { ReplyTarget } from '../../app/decide.js';
import { SLACK_USER_ID } from '../../domain/people.js';

export type StateValues = Record<string, Record<string, ViewStateValue>>;

/** What is wrong with a reason typed in a modal (`short`: the words for one under 3 characters); undefined when fine. */
export function reasonProblem(reason: string, short: string): string | undefined {
  if (reason.length < 3) return short;
  return reason.length > MAX_REASON_LENGTH ? `Keep the reason under ${MAX_REASON_LENGTH} characters (it has ${reason.length}).` : undefined;
}

/** The value chosen or typed in the modal's block `block` (whose element has the same action id). */
export function selected(values: StateValues | undefined, block: string): string | undefined {
  const v = values?.[block]?.[block];
  if (!v || typeof v !== 'object') return undefined;
  const opt = v.selected_option;
  if (opt && typeof opt.value === 'string') return opt.value;
  // A users_select: https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
  if (typeof v.selected_user === 'string') return v.selected_user;
  return typeof v.value === 'string' ? v.value : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * How long views.open may wait for a rate-limit hold on it to end. Its trigger id lives 3 s from
 * the click (https://docs.slack.dev/reference/methods/views.open); past this it fails at once.
 */
export const VIEWS_OPEN_MAX_WAIT_MS = 1500;

/**
 * Where to answer a slash command privately. The response_url is contacted only if it is Slack's
 * (SlackGateway.ephemeral); otherwise the reply goes by chat.postEphemeral.
 */
function commandReply(body: { user_id: string; channel_id?: string; response_url?: string }) {
  return { user: body.user_id, channel: str(body.channel_id), responseUrl: str(body.response_url) };
}

/** Request ids we mint look like this; anything else in a button value is refused unread. */
const REQUEST_ID = /^req_[A-Za-z0-9_-]{6,32}$/;

/** The request id a button carries, if it looks like one we mint. */
export function buttonRequestId(body: BlockAction): string | undefined {
  const action = body.actions?.[0] as ButtonAction | undefined;
  const v = str(action?.value);
  return v && REQUEST_ID.test(v) ? v : undefined;
}

/** Where to answer a click privately (a Home click has no channel nor response_url: by DM). */
export function replyOf(body: BlockAction): ReplyTarget {
  return {
    user: body.user.id,
    channel: str(body.channel?.id) ?? str((body.container as { channel_id?: unknown } | undefined)?.channel_id),
    // Contacted only if it is Slack's (SlackGateway.ephemeral); otherwise the reply goes another way.
    responseUrl: str((body as { response_url?: unknown }).response_url),
  };
}

/**
 * Opens a modal on a trigger id (`views.push`: on top of the modal the trigger came from), logging
 * (never throwing) when Slack refuses or holds the call.
 */
export async function openView(slack: SlackApi, logger: Logger, triggerId: string, view: View, what: string, facts: Record<string, unknown>, method: 'views.open' | 'views.push' = 'views.open'): Promise<void> {
  try {
    await slack.call(method, { trigger_id: triggerId, view }, { maxWaitMs: VIEWS_OPEN_MAX_WAIT_MS });
  } catch (err) {
    if (err instanceof RetryableError && err.code === 'slack_rate_limited') {
      logger.warn({ ...facts, err: err.message, heldMs: err.retryAfterMs }, `could not open the ${what}: Slack rate-limits views.open past its trigger's 3 s, so it was not called`);
    } else {
      logger.warn({ ...facts, err: (err as Error).message }, `could not open the ${what}`);
    }
  }
}

/**
 * The request modal for someone who may request (`/access`, the Home's Request access); anyone
 * else is answered privately. Call after the ack: the trigger id lives 3 s. `ackedAt` (the
 * performance clock at the ack) shortens the account lookup by however long the work waited to
 * start (`AfterAck`), so lookup and views.open together stay inside the trigger's life.
 */
export async function openRequestModal(ctx: AppContext, slack: SlackApi, logger: Logger, input: { user: string; triggerId: string; reply: ReplyTarget; ackedAt?: number }): Promise<void> {
  const budgetMs = lookupBudget(input.ackedAt);
  const refusal = actorRefusal(ctx, await ctx.people.slackActor(input.user, budgetMs), 'request');
  if (refusal) {
    refuseRequester(ctx, input.reply, refusal);
    logger.info({ user: input.user, code: refusal.code }, 'request refused before the modal');
    return;
  }
  const catalog = ctx.catalog();
  // Offered when anyone could use it: someone's manager can be looked up, or the catalog lists delegates.
  const forSomeoneElse = ctx.people.managerSourceName !== undefined || (catalog.delegates?.length ?? 0) > 0;
  await openView(slack, logger, input.triggerId, requestModal(catalog, { forSomeoneElse }), 'request modal', { user: input.user });
}

/** What the listeners share for the work after an ack: how long the account lookup may take. */
export function lookupBudget(ackedAt: number | undefined): number {
  const waited = ackedAt === undefined ? 0 : performance.now() - ackedAt;
  return Math.max(MIN_LOOKUP_BUDGET_MS, ACTOR_LOOKUP_BUDGET_MS - waited);
}

/**
 * Schedules the work a listener does after its ack (opening a modal): at once, or, over HTTP,
 * when a burst's hold ends (SlackDemand.afterHold), so that the rest of a burst is acked first.
 */
export type AfterAck = (work: () => Promise<void>) => void;
const MIN_LOOKUP_BUDGET_MS = 500;

/**
 * Registers the listeners on either transport: the HTTP router (inbound.ts) or Bolt in Socket
 * Mode. `slack` opens modals (views.open cannot wait for the outbox: the trigger id lives 3 s).
 */
export function registerListeners(app: SlackListenerRegistry, ctx: AppContext, slack: SlackApi, logger: Logger, afterAck?: (fn: () => void) => void): void {
  const later: AfterAck = (work) => {
    const run = () => {
      work().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'work after an ack failed'));
    };
    if (afterAck) afterAck(run);
    else run();
  };
  const openModal = (triggerId: string, view: View, what: string, facts: Record<string, unknown>) => openView(slack, logger, triggerId, view, what, facts);

  app.command('/access', async ({ ack, body }) => {
    const cmd = parseAccessCommand(typeof body.text === 'string' ? body.text : '');
    if (cmd.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: escapeMrkdwn(accessHelp(cmd.notUnderstood)) });
      return;
    }
    if (cmd.kind === 'removal_modal' || cmd.kind === 'change_modal') {
      await ack();
      const ackedAt = performance.now();
      const kind = cmd.kind === 'removal_modal' ? 'removal' : 'change';
      later(() => openKindModal(ctx, slack, logger, { kind, user: body.user_id, triggerId: body.trigger_id, reply: commandReply(body), ackedAt }));
      return;
    }
    if (cmd.kind !== 'modal') {
      const user = str(body.user_id);
      if (!user) return ack();
      // Recorded before the ack (one transaction, committed in this turn): once Slack has our 200, a
      // cancellation cannot be lost. The answer goes by the response_url, through the outbox.
      await ctx.store.batched(() => runSubcommand(ctx, cmd, user, commandReply(body)));
      await ack();
      return;
    }
    await ack();
    const ackedAt = performance.now();
    later(() => openRequestModal(ctx, slack, logger, { user: body.user_id, triggerId: body.trigger_id, reply: commandReply(body), ackedAt }));
  });

  app.options(IDS.application, async ({ ack, body }) => {
    await ack(applicationMenu(ctx.catalog(), str((body as { value?: unknown }).value) ?? ''));
  });

  app.options(IDS.role, async ({ ack, body }) => {
    const values = (body as { view?: { state?: { values?: StateValues } } }).view?.state?.values;
    await ack({ options: roleOptions(ctx.catalog(), selected(values, IDS.application), str((body as { value?: unknown }).value) ?? '') });
  });

  app.options(IDS.duration, async ({ ack, body }) => {
    const values = (body as { view?: { state?: { values?: StateValues } } }).view?.state?.values;
    await ack({ options: durationOptions(ctx.catalog(), selected(values, IDS.application), selected(values, IDS.role)) });
  });

  app.view(IDS.requestModal, async ({ ack, body, view }) => {
    const values = view.state?.values as StateValues | undefined;
    const form = { appId: selected(values, IDS.application), roleId: selected(values, IDS.role), durationToken: selected(values, IDS.duration), reason: selected(values, IDS.reason) };
    const forWhom = selected(values, IDS.onBehalf);
    if (forWhom !== undefined && !SLACK_USER_ID.test(forWhom)) {
      await ack({ response_action: 'errors', errors: { [IDS.onBehalf]: 'Choose a person from the list, or leave this empty.' } });
      return;
    }
    const other = forWhom !== undefined && forWhom !== body.user.id ? forWhom : undefined;
    // Checked again on submission: the account may have changed, or the modal never came from
    // /access. The person chosen is looked up at the same time: Slack waits 3 s for this answer.
    const [actor, subject] = await Promise.all([ctx.people.slackActor(body.user.id), other ? ctx.people.slackActor(other) : undefined]);
    const refusal = actorRefusal(ctx, actor, 'request');
    if (refusal) {
      await ack({ response_action: 'errors', errors: { [IDS.application]: refusal.message } });
      logger.info({ user: body.user.id, code: refusal.code }, 'request submission refused');
      return;
    }
    let requesterSlackId = body.user.id;
    let onBehalf: OnBehalfRequest | undefined;
    if (other && subject) {
      const check = await checkOnBehalf(ctx, { submitter: actor, subjectSlackId: other, subject, appId: form.appId, roleId: form.roleId });
      if (!check.ok) {
        // With the form's own errors, so the person fixes everything at once.
        await ack({ response_action: 'errors', errors: { ...formErrors(ctx.catalog(), form), [IDS.onBehalf]: check.message } });
        logger.info({ user: body.user.id, for: other, code: check.code }, 'request for someone else refused');
        return;
      }
      requesterSlackId = check.subjectSlackId;
      onBehalf = check.onBehalf;
    }
    // Recorded before the ack, committed with the other submissions of the same moment (store.batched).
    const result = await ctx.store.batched(() => submitRequest(ctx, { submissionKey: view.id, requesterSlackId, onBehalf, ...form }));
    if (!result.ok) {
      await ack({ response_action: 'errors', errors: result.errors as Record<string, string> });
      return;
    }
    await ack();
    logger.info({ requestId: result.request.id, duplicate: result.duplicate, ...(onBehalf ? { submittedBy: body.user.id, as: onBehalf.as } : {}) }, 'request submitted');
  });

  app.action(IDS.approve, async ({ ack, body }) => {
    const reply = replyOf(body);
    const requestId = buttonRequestId(body);
    if (!requestId) {
      await ack();
      logger.warn({ user: body.user.id }, 'approve click without a valid request id');
      return;
    }
    // Recorded before the ack (the account lookup is bounded, the transaction committed in the
    // same turn, both well inside Slack's 3 s): once Slack has our 200, the decision cannot be
    // lost to a crash.
    const actor = await ctx.people.slackActor(body.user.id);
    await ctx.store.batched(() => decide(ctx, { requestId, actor, decision: 'approve', reply }));
    await ack();
  });

  app.action(IDS.deny, async ({ ack, body }) => {
    const reply = replyOf(body);
    const requestId = buttonRequestId(body);
    if (!requestId) {
      await ack();
      logger.warn({ user: body.user.id }, 'deny click without a valid request id');
      return;
    }
    // A refusal is recorded before the ack, like a decision; the modal opens after it.
    const actor = await ctx.people.slackActor(body.user.id);
    const refused = await ctx.store.batched(() => refuseIfMayNotDecide(ctx, { requestId, actor, reply }));
    await ack();
    if (refused) return;
    const r = ctx.store.getRequest(requestId)!;
    later(() => openModal(body.trigger_id, denyModal(requestId, requestSummary(r)), 'deny modal', { requestId }));
  });

  app.action(IDS.review, async ({ ack, body }) => {
    // Acked first: whether the clicker is a reviewer may take Slack group and IdP manager lookups.
    await ack();
    const requestId = buttonRequestId(body);
    if (!requestId) return;
    // Who reviewed is read from Slack's directory (users.info), not from the payload's user name.
    await reviewBreakGlass(ctx, { requestId, actor: await ctx.people.slackActor(body.user.id), reply: replyOf(body) });
  });

  app.action(IDS.revoke, async ({ ack, body }) => {
    const requestId = buttonRequestId(body);
    // Recorded before the ack, like a decision (the account lookup is bounded inside Slack's 3 s).
    if (requestId) {
      const actor = await ctx.people.slackActor(body.user.id);
      await ctx.store.batched(() => revokeNow(ctx, { requestId, actor, reply: replyOf(body) }));
    }
    await ack();
  });

  app.action(IDS.extend, async ({ ack, body }) => {
    const requestId = buttonRequestId(body);
    // Recorded before the ack; who may extend (only the holder, at most the role's maximum) is
    // decided by the use case, as for /access extend.
    if (requestId) await ctx.store.batched(() => extendFromWarning(ctx, { actorSlackId: body.user.id, requestId, reply: replyOf(body) }));
    await ack();
  });

  app.view(IDS.denyModal, async ({ ack, body, view }) => {
    const requestId = str(view.private_metadata);
    const reason = selected(view.state?.values as StateValues | undefined, IDS.reason)?.trim() ?? '';
    if (!requestId || !REQUEST_ID.test(requestId)) {
      await ack();
      logger.warn({ user: body.user.id }, 'deny modal with a tampered request id');
      return;
    }
    const problem = reasonProblem(reason, 'Give the requester a reason (at least 3 characters).');
    if (problem) {
      await ack({ response_action: 'errors', errors: { [IDS.reason]: problem } });
      return;
    }
    const actor = await ctx.people.slackActor(body.user.id);
    const check = checkMayDecide(ctx, { requestId, actor });
    // A refusal is answered by DM: a modal submission has no response_url. Recorded before the ack.
    await ctx.store.batched(() => decide(ctx, { requestId, actor, decision: 'deny', reason, reply: { user: body.user.id } }));
    await ack();
    if (!check.ok) logger.info({ requestId, code: check.code }, 'deny refused');
  });

  registerHomeListeners(app, ctx, slack, logger, later);
  registerReviewListeners(app, ctx, slack, logger, later);
  registerKindListeners(app, ctx, slack, logger, later);
  registerReclaimListeners(app, ctx, slack, logger, later);
}
