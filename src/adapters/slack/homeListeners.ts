/**
 * The App Home's listeners: `app_home_opened` (the Home tab only; the Messages tab is the DM) and
 * Request access. Approve, Deny, Revoke now and Extend on the Home carry the action ids of the DM
 * cards and the expiry warning, so listeners.ts decides them with the same click-time rules.
 */
import type { Logger } from 'pino';
import type { AppContext } from '../../app/context.js';
import { homeOpened } from '../../app/home.js';
import type { SlackApi } from './api.js';
import { HOME_IDS } from './homeView.js';
import type { SlackListenerRegistry } from './inbound.js';
import { openRequestModal, replyOf, type AfterAck } from './listeners.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function registerHomeListeners(app: SlackListenerRegistry, ctx: AppContext, slack: SlackApi, logger: Logger, later: AfterAck): void {
  app.event('app_home_opened', async ({ ack, body }) => {
    const event = isObject(body['event']) ? body['event'] : {};
    const user = typeof event['user'] === 'string' && event['user'] ? event['user'] : undefined;
    const eventId = typeof body['event_id'] === 'string' && body['event_id'] ? body['event_id'] : undefined;
    // https://docs.slack.dev/reference/events/app_home_opened : `tab` is `home` or `messages`.
    if (!user || !eventId || event['tab'] !== 'home') {
      await ack();
      return;
    }
    // Recorded before the ack (one short transaction); a retry of the delivery changes nothing.
    const { duplicate } = homeOpened(ctx, { slackId: user, eventId });
    await ack();
    if (duplicate) logger.info({ user, eventId }, 'dropped a Slack event delivered again');
  });

  app.action(HOME_IDS.requestAccess, async ({ ack, body }) => {
    await ack();
    const ackedAt = performance.now();
    later(() => openRequestModal(ctx, slack, logger, { user: body.user.id, triggerId: body.trigger_id, reply: replyOf(body), ackedAt }));
  });
}
