/**
 * POST /webhooks/jira. Jira Cloud admin webhooks registered with a secret sign the raw body with
 * HMAC-SHA256 and send `X-Hub-Signature: sha256=<hex>`; `X-Atlassian-Webhook-Identifier` is
 * unchanged across redeliveries (https://developer.atlassian.com/cloud/jira/platform/webhooks/).
 * Unsigned, mis-signed or malformed deliveries change nothing; this endpoint never answers 5xx
 * to bad input, so Jira does not retry what can never succeed.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AppContext } from '../../app/context.js';
import { recordJiraChange } from '../../app/jiraChange.js';

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

export function jiraWebhookHandler(ctx: AppContext, secret: string, logger: Logger) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return answer(res, 413, { error: 'body too large' });
      chunks.push(c as Buffer);
    }
    const raw = Buffer.concat(chunks);
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
    const deliveryId = (Array.isArray(idHeader) ? idHeader[0] : idHeader) ?? createHash('sha256').update(raw).digest('hex');
    const issue = payload.issue as { key?: unknown } | undefined;
    const comment = payload.comment as { id?: unknown; updateAuthor?: { displayName?: unknown }; author?: { displayName?: unknown } } | undefined;
    const user = payload.user as { displayName?: unknown; accountId?: unknown } | undefined;
    const by = str(user?.displayName) ?? str(comment?.updateAuthor?.displayName) ?? str(user?.accountId) ?? 'someone';
    try {
      const result = recordJiraChange(ctx, { deliveryId, event: str(payload.webhookEvent) ?? '', issueKey: str(issue?.key), commentId: str(comment?.id), by });
      logger.info({ event: payload.webhookEvent, issue: issue?.key, result }, 'jira webhook');
      return answer(res, 200, { result });
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'jira webhook failed');
      return answer(res, 500, { error: 'internal error' });
    }
  };
}
