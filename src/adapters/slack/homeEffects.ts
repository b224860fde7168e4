/**
 * Runs `slack.homePublish`: renders the person's App Home from the state as it is now and
 * publishes it (views.publish, https://docs.slack.dev/reference/methods/views.publish). Its
 * completion holds the next publish of that Home a second (app/home.ts).
 */
import { homeModel, homePublished } from '../../app/home.js';
import { inTx, type AppContext } from '../../app/context.js';
import { asEffect } from '../../app/effects.js';
import type { TxStore } from '../../app/ports/store.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import type { SlackGateway } from './client.js';
import { homeView } from './homeView.js';

/** `onDone` writes through `tx`, the handle of the transaction recording the outcome. */
export function homeHandlers(ctx: AppContext, slack: SlackGateway): Record<string, EffectHandler<TxStore>> {
  return {
    'slack.homePublish': {
      async run(row) {
        const { slackId } = asEffect('slack.homePublish', row.payload);
        if (!ctx.store.homeOf(slackId)) return { skipped: 'Home never opened' };
        await slack.api.callClassified('views.publish', { user_id: slackId, view: homeView(homeModel(ctx, slackId)) });
        return undefined;
      },
      onDone(row, _result, tx) {
        homePublished(inTx(ctx, tx), asEffect('slack.homePublish', row.payload).slackId);
      },
    },
  };
}
