/**
 * Removal and change from Slack (issue 16): `/access remove`, `/access change` and the request
 * modal's buttons open their forms (kindModals.ts); the forms' choices are served from their
 * state; a submission is checked again (the account, what the person holds) and recorded by the
 * use case (app/submitRemoval.ts). Like the request modal, a form opens after the ack, within
 * the trigger id's 3 seconds.
 */
import type { ViewStateValue } from '@slack/bolt';
import type { Logger } from 'pino';
import { actorRefusal, refuseRequester } from '../../app/actor.js';
import type { AppContext } from '../../app/context.js';
import type { ReplyTarget } from '../../app/decide.js';
import { holdingsOfSlackUser } from '../../app/holdings.js';
import { submitChange, submitRemoval } from '../../app/submitRemoval.js';
import { parseHoldingValue, type Holding } from '../../domain/removal.js';
import type { SlackApi } from './api.js';
import { IDS } from './blocks.js';
import type { SlackListenerRegistry } from './inbound.js';
import { changeDurationOptions, changeModal, removalModal, toRoleOptions } from './kindModals.js';
import { lookupBudget, openView, replyOf, type AfterAck } from './listeners.js';

type StateValues = Record<string, Record<string, ViewStateValue>>;

function selected(values: StateValues | undefined, block: string): string | undefined {
  const v = values?.[block]?.[block];
  if (!v || typeof v !== 'object') return undefined;
  if (v.selected_option && typeof v.selected_option.value === 'string') return v.selected_option.value;
  return typeof v.value === 'string' ? v.value : undefined;
}

function stateOf(body: unknown): StateValues | undefined {
  return (body as { view?: { state?: { values?: StateValues } } }).view?.state?.values;
}

/**
 * The removal or change form for someone who may request, listing what they hold; anyone else is
 * answered privately. `push`: on top of the request modal the click came from.
 */
export async function openKindModal(
  ctx: AppContext,
  slack: SlackApi,
  logger: Logger,
  input: { kind: 'removal' | 'change'; user: string; triggerId: string; reply: ReplyTarget; ackedAt?: number; push?: boolean },
): Promise<void> {
  const actor = await ctx.people.slackActor(input.user, lookupBudget(input.ackedAt));
  const refusal = actorRefusal(ctx, actor, 'request');
  if (refusal) {
    refuseRequester(ctx, input.reply, refusal);
    logger.info({ user: input.user, code: refusal.code }, `${input.kind} refused before the form`);
    return;
  }
  const holdings = holdingsOfSlackUser(ctx, input.user, actor.account.ok ? actor.account.user.email : undefined);
  const view = input.kind === 'removal' ? removalModal(holdings) : changeModal(holdings);
  await openView(slack, logger, input.triggerId, view, `${input.kind} form`, { user: input.user }, input.push ? 'views.push' : 'views.open');
}

export function registerKindListeners(app: SlackListenerRegistry, ctx: AppContext, slack: SlackApi, logger: Logger, later: AfterAck): void {
  for (const [actionId, kind] of [
    [IDS.openRemoval, 'removal'],
    [IDS.openChange, 'change'],
  ] as const) {
    app.action(actionId, async ({ ack, body }) => {
      await ack();
      const ackedAt = performance.now();
      later(() => openKindModal(ctx, slack, logger, { kind, user: body.user.id, triggerId: body.trigger_id, reply: replyOf(body), ackedAt, push: true }));
    });
  }

  app.options(IDS.toRole, async ({ ack, body }) => {
    await ack({ options: toRoleOptions(ctx.catalog(), selected(stateOf(body), IDS.holding), (body as { value?: unknown }).value as string | undefined) });
  });

  app.options(IDS.changeDuration, async ({ ack, body }) => {
    const values = stateOf(body);
    await ack({ options: changeDurationOptions(ctx.catalog(), selected(values, IDS.holding), selected(values, IDS.toRole)) });
  });

  /**
   * A submitted form: checked again (the account may have changed, what is held is read anew),
   * recorded by `submit`, its errors shown inline by block id; done, the whole stack closes (the
   * request modal under a pushed form is done with too).
   */
  const onSubmit = (callbackId: string, what: string, submit: (input: { user: string; key: string; values: StateValues | undefined; held: ReturnType<typeof parseHoldingValue>; holdings: Holding[] }) => { ok: true; request: { id: string }; duplicate: boolean } | { ok: false; errors: Record<string, string> }) => {
    app.view(callbackId, async ({ ack, body, view }) => {
      const actor = await ctx.people.slackActor(body.user.id);
      const refusal = actorRefusal(ctx, actor, 'request');
      if (refusal) {
        await ack({ response_action: 'errors', errors: { [IDS.holding]: refusal.message } });
        return;
      }
      const holdings = holdingsOfSlackUser(ctx, body.user.id, actor.account.ok ? actor.account.user.email : undefined);
      const values = view.state?.values as StateValues | undefined;
      const result = submit({ user: body.user.id, key: view.id, values, held: parseHoldingValue(selected(values, IDS.holding)), holdings });
      if (!result.ok) {
        await ack({ response_action: 'errors', errors: result.errors });
        return;
      }
      await ack({ response_action: 'clear' });
      logger.info({ requestId: result.request.id, duplicate: result.duplicate }, `${what} submitted`);
    });
  };

  onSubmit(IDS.removalModal, 'removal', ({ user, key, values, held, holdings }) => {
    const r = submitRemoval(ctx, { requester: { slackId: user }, submissionKey: key, appId: held?.appId, roleId: held?.roleId, reason: selected(values, IDS.reason), holdings });
    // The form's blocks carry the domain's field names (holding, reason).
    return r.ok ? r : { ok: false, errors: r.errors as Record<string, string> };
  });

  onSubmit(IDS.changeModal, 'change', ({ user, key, values, held, holdings }) => {
    const r = submitChange(ctx, {
      requester: { slackId: user },
      submissionKey: key,
      appId: held?.appId,
      roleId: held?.roleId,
      toRoleId: selected(values, IDS.toRole),
      durationToken: selected(values, IDS.changeDuration),
      reason: selected(values, IDS.reason),
      holdings,
    });
    if (r.ok) return r;
    const e = r.errors;
    const byBlock = { [IDS.holding]: e.holding, [IDS.toRole]: e.role, [IDS.changeDuration]: e.duration, [IDS.reason]: e.reason };
    return { ok: false, errors: Object.fromEntries(Object.entries(byBlock).filter((x): x is [string, string] => x[1] !== undefined)) };
  });
}
