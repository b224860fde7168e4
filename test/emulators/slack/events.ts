/**
 * The Events API from Slack's side: the `event_callback` envelope, the request signature, and the
 * delivery of workspace events (a user deactivated: `user_change`) to an app that subscribed.
 *
 * - Envelope: `{token, team_id, api_app_id, event, type: "event_callback", event_id, event_time,
 *   authorizations, is_ext_shared_channel}` (https://docs.slack.dev/apis/events-api).
 * - Signature: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">` with the
 *   app's signing secret, `X-Slack-Request-Timestamp` in seconds
 *   (https://docs.slack.dev/authentication/verifying-requests-from-slack).
 * - `user_change`: "A member's data has changed", sent to apps subscribed to it with the
 *   `users:read` scope; the event carries the whole user object (with `deleted: true` once the
 *   account is deactivated), `cache_ts` and `event_ts` (https://api.slack.com/events/user_change,
 *   slack-ruby/slack-api-ref events/user_change.json; @slack/types `UserChangeEvent`).
 * - Delivery: a POST to the subscription's Request URL, a 2xx within 3 seconds acknowledging it.
 *   Slack retries a failed delivery (with `X-Slack-Retry-Num`) after about a minute and five
 *   minutes; the emulator delivers once and records the answer: a test replays a delivery with
 *   the driver's `event(…, { retryNum })` when it needs to.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Obj } from './wire.js';

/** Slack's signature headers for a body. */
export function signSlackRequest(signingSecret: string, body: string, timestamp: number = Math.floor(Date.now() / 1000)): Record<string, string> {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': `v0=${digest}` };
}

/** An event's `event_ts`: seconds with microseconds, as Slack writes message timestamps. */
export function eventTs(ms: number = Date.now()): string {
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000 + Math.floor(Math.random() * 1000)).padStart(6, '0')}`;
}

export interface AppIdentity {
  teamId: string;
  appId: string;
  botUserId: string;
  verificationToken: string;
}

/** The `event_callback` envelope around one event. */
export function eventEnvelope(app: AppIdentity, event: Obj, eventId?: string, now: number = Date.now()): string {
  return JSON.stringify({
    token: app.verificationToken,
    team_id: app.teamId,
    api_app_id: app.appId,
    event: { event_ts: eventTs(now), ...event },
    type: 'event_callback',
    event_id: eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(now / 1000),
    authorizations: [{ enterprise_id: null, team_id: app.teamId, user_id: app.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

/** An app's Events API subscription: where Slack posts, how it signs, which events it asked for. */
export interface EventSubscription {
  requestUrl: string;
  signingSecret: string;
  botEvents: string[];
}

export interface EventDelivery {
  type: string;
  eventId: string;
  /** The app's HTTP status, or 0 when it could not be reached. */
  status: number;
}

/** Posts one signed `event_callback` to the subscription's Request URL; resolves with the app's status. */
export async function deliverEvent(sub: EventSubscription, app: AppIdentity, event: Obj & { type: string }, now: number = Date.now()): Promise<EventDelivery> {
  const eventId = `Ev${randomBytes(5).toString('hex').toUpperCase()}`;
  const body = eventEnvelope(app, event, eventId, now);
  try {
    const res = await fetch(sub.requestUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...signSlackRequest(sub.signingSecret, body, Math.floor(now / 1000)) },
      body,
      signal: AbortSignal.timeout(3000),
    });
    await res.arrayBuffer();
    return { type: event.type, eventId, status: res.status };
  } catch {
    return { type: event.type, eventId, status: 0 };
  }
}
