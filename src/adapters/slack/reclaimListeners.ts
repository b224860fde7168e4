/**
 * Slack's side of reclaim and offboarding:
 * - **Keep it** on an inactivity warning: who may is checked and a refusal recorded before the
 *   ack, then the reason modal opens (its trigger id lives 3 s); the submission keeps the access
 *   (app/keepAccess.ts), recorded before its ack.
 * - `user_change` (Events API, https://api.slack.com/events/user_change): a user object with
 *   `deleted: true` is someone who left the workspace; their grants, pending requests and
 *   approvals are ended or handed on (app/offboard.ts), recorded before the ack. Any change to
 *   a user drops what the users.info cache kept of them (the next act asks Slack).
 */
import type { Logger } from 'pino';
import type { AppContext } from '../../app/context.js';
import { keepAccess, MIN_KEEP_REASON, refuseIfMayNotKeep } from '../../app/keepAccess.js';
import { personLeftSlack } from '../../app/offboard.js';
import { MAX_REASON_LENGTH } from '../../domain/submission.js';
import type { SlackApi } from './api.js';
import type { SlackListenerRegistry } from './inbound.js';
import { buttonRequestId, openView, replyOf, type AfterAck } from './listeners.js';
import { keepModal, RECLAIM_IDS } from './reclaimBlocks.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Request ids we mint look like this (listeners.ts); a tampered modal is refused unread. */
const REQUEST_ID = /^req_[A-Za-z0-9_-]{6,32}$/;

export function registerReclaimListeners(app: SlackListenerRegistry, ctx: AppContext, slack: SlackApi, logger: Logger, later: AfterAck): void {
  app.action(RECLAIM_IDS.keep, async ({ ack, body }) => {
    const requestId = buttonRequestId(body);
    if (!requestId) {
      await ack();
      logger.warn({ user: body.user.id }, 'keep click without a valid request id');
      return;
    }
    const refused = refuseIfMayNotKeep(ctx, { requestId, actor: await ctx.people.slackActor(body.user.id), reply: replyOf(body) });
    await ack();
    if (refused) return;
    const r = ctx.store.getRequest(requestId);
    if (r) later(() => openView(slack, logger, body.trigger_id, keepModal(r), 'keep modal', { requestId }));
  });

  app.view(RECLAIM_IDS.keepModal, async ({ ack, body, view }) => {
    const requestId = typeof view.private_metadata === 'string' ? view.private_metadata : '';
    const raw = view.state?.values?.[RECLAIM_IDS.reason]?.[RECLAIM_IDS.reason]?.value;
    const reason = typeof raw === 'string' ? raw.trim() : '';
    if (!REQUEST_ID.test(requestId)) {
      await ack();
      logger.warn({ user: body.user.id }, 'keep modal with a tampered request id');
      return;
    }
    if (reason.length < MIN_KEEP_REASON || reason.length > MAX_REASON_LENGTH) {
      const error = reason.length < MIN_KEEP_REASON ? `Say why you still need it (at least ${MIN_KEEP_REASON} characters).` : `Keep the reason under ${MAX_REASON_LENGTH} characters (it has ${reason.length}).`;
      await ack({ response_action: 'errors', errors: { [RECLAIM_IDS.reason]: error } });
      return;
    }
    // A modal submission has no response_url: a refusal or the confirmation goes by DM.
    const kept = keepAccess(ctx, { requestId, actor: await ctx.people.slackActor(body.user.id), reason, reply: { user: body.user.id } });
    await ack();
    if (!kept.ok) logger.info({ requestId, code: kept.code }, 'keep refused');
  });

  app.event('user_change', async ({ ack, body }) => {
    const event = isObject(body['event']) ? body['event'] : {};
    const user = isObject(event['user']) ? event['user'] : {};
    const slackId = typeof user['id'] === 'string' && user['id'] ? user['id'] : undefined;
    const eventId = typeof body['event_id'] === 'string' && body['event_id'] ? body['event_id'] : undefined;
    // Any change (a guest promoted or demoted, an email changed): the next act asks Slack again
    // instead of trusting the minute-long users.info cache.
    if (slackId) ctx.people.forgetSlackUser(slackId);
    if (!slackId || !eventId || user['deleted'] !== true) {
      await ack();
      return;
    }
    const { duplicate, result } = personLeftSlack(ctx, { slackId, eventId });
    await ack();
    if (duplicate) logger.info({ user: slackId, eventId }, 'dropped a Slack event delivered again');
    else logger.info({ user: slackId, ...result }, 'a Slack user was deactivated');
  });
}
