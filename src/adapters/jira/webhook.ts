/**
 * POST /webhooks/jira. Jira Cloud admin webhooks registered with a secret sign the raw body with
 * HMAC-SHA256 and send `X-Hub-Signature: sha256=<hex>`; `X-Atlassian-Webhook-Identifier` is
 * unchanged across redeliveries (https://developer.atlassian.com/cloud/jira/platform/webhooks/).
 * Unsigned, mis-signed or malformed deliveries change nothing; this endpoint never answers 5xx
 * to bad input, so Jira does not retry what can never succeed.
 *
 * The delivery id is not covered by the signature, so a captured signed body could be replayed
 * under a new id: deliveries are also deduplicated by the SHA-256 of the signed body (the body
 * carries the event's `timestamp`, so two real events never share one), and a body whose
 * `timestamp` is older than the time seen deliveries are kept is refused, so pruning them does
 * not reopen the replay.
 *
 * `jira:issue_created` and `jira:issue_updated` go to intake (app/jiraIntake.ts: an issue of a
 * `jira.intake` request type becomes a request), the same handler the poll feeds; deletions and
 * comment edits to tamper evidence (app/jiraChange.ts).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AppContext } from '../../app/context.js';
import { recordJiraChange, SEEN_RETENTION_MS } from '../../app/jiraChange.js';
import { receiveIssueDelivery } from '../../app/jiraIntake.js';
import { readBody } from '../httpServer.js';
import { issueSnapshot } from './issueSnapshot.js';

const MAX_BODY = 1024 * 1024;

export function verifyJiraSignature(secret: string, raw: Buffer, header: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'));
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined;
}

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function jiraWebhookHandler(ctx: AppContext, secret: string, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, MAX_BODY);
    if (body === 'too large') {
      res.setHeader('connection', 'close');
      return answer(res, 413, { error: 'body too large' });
    }
    // Aborted or broken mid-body: nobody is left to answer.
    if (body === 'aborted') return void res.destroy();
    const raw = body;
    const sig = req.headers['x-hub-signature'];
    if (!verifyJiraSignature(secret, raw, Array.isArray(sig) ? sig[0] : sig)) return answer(res, 401, { error: 'bad or missing signature' });
    let payload: Record<string, unknown>;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      payload = parsed as Record<string, unknown>;
    } catch {
      return answer(res, 400, { error: 'body is not a JSON object' });
    }
    const idHeader = req.headers['x-atlassian-webhook-identifier'];
    const bodyHash = createHash('sha256').update(raw).digest('hex');
    const deliveryId = (Array.isArray(idHeader) ? idHeader[0] : idHeader) ?? bodyHash;
    if (typeof payload.timestamp === 'number' && payload.timestamp < ctx.now() - SEEN_RETENTION_MS) {
      logger.warn({ deliveryId, timestamp: payload.timestamp }, 'refused a Jira delivery older than deliveries are remembered (a replay?)');
      return answer(res, 400, { error: 'delivery too old' });
    }
    const issue = payload.issue as { key?: unknown } | undefined;
    const comment = payload.comment as { id?: unknown; updateAuthor?: { displayName?: unknown }; author?: { displayName?: unknown } } | undefined;
    const user = payload.user as { displayName?: unknown; accountId?: unknown } | undefined;
    const by = str(user?.displayName) ?? str(comment?.updateAuthor?.displayName) ?? str(user?.accountId) ?? 'someone';
    const event = str(payload.webhookEvent) ?? '';
    try {
      let result: string;
      if (event === 'jira:issue_created' || event === 'jira:issue_updated') {
        const snapshot = issueSnapshot(payload.issue, { changelog: payload.changelog, user: payload.user, timestamp: payload.timestamp });
        result = snapshot ? receiveIssueDelivery(ctx, { deliveryId, bodyHash, issue: snapshot }) : 'ignored';
      } else {
        result = recordJiraChange(ctx, { deliveryId, bodyHash, event, issueKey: str(issue?.key), commentId: str(comment?.id), by });
      }
      logger.info({ event: payload.webhookEvent, issue: issue?.key, result }, 'jira webhook');
      return answer(res, 200, { result });
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'jira webhook failed');
      return answer(res, 500, { error: 'internal error' });
    }
  };
  // Neither our router nor Bolt's Socket Mode routes wait for a listener: a failure is answered
  // here, never left as an unhandled rejection (which ends the process).
  return (req, res) =>
    void handle(req, res).catch((err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'jira webhook failed');
      if (!res.headersSent) answer(res, 500, { error: 'internal error' });
      else res.destroy();
    });
}
