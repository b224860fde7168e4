/**
 * Bolt's HTTPReceiver behind a small guard of our own. Bolt 4.7 reads fields of the parsed body
 * (`body.ssl_check`, `user.id`, `actions[0]`) before any listener runs and outside any try, so a
 * correctly signed payload that is `null`, a number or an array, or that lacks `user`, crashes
 * the process or answers 500. The guard buffers the body (Bolt reuses `req.rawBody`), answers
 * 401 to a bad signature and 400 to a body that is not a JSON object, and Bolt's own error and
 * unhandled-request handlers answer 400 / 200 instead of 500 / a 3-second timeout.
 */
import { HTTPReceiver, isValidSlackRequest, type CustomRoute, type Logger as BoltLogger } from '@slack/bolt';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';

const SLACK_PATH = '/slack/events';
/** Slack's payloads are far smaller; a view with 100 blocks is tens of kilobytes. */
const MAX_BODY = 1024 * 1024;

export function createSlackReceiver(opts: { signingSecret: string; customRoutes: CustomRoute[]; logger: BoltLogger }): HTTPReceiver {
  return new HTTPReceiver({
    signingSecret: opts.signingSecret,
    customRoutes: opts.customRoutes,
    logger: opts.logger,
    // A listener that threw before acking: the payload was malformed. Never a 5xx for bad input.
    processEventErrorHandler: async ({ error, logger, response }) => {
      logger.warn(`rejected a Slack request Bolt could not process: ${error.message}`);
      if (!response.headersSent) {
        response.writeHead(400);
        response.end();
      }
      return true;
    },
    // No listener matched (an unknown action id or interaction type): acknowledge promptly so
    // Slack shows no error, and change nothing.
    unhandledRequestHandler: ({ logger, response }) => {
      logger.info('acknowledged a Slack request no listener handles');
      if (!response.headersSent) {
        response.writeHead(200);
        response.end();
      }
    },
    unhandledRequestTimeoutMillis: 1000,
  });
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** Whether the body, as Bolt will parse it, is a JSON object. */
function isObjectBody(raw: string, contentType: string): boolean {
  try {
    let value: unknown;
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const q = parseQuery(raw);
      if (typeof q.payload !== 'string') return true; // slash commands: plain form fields
      value = JSON.parse(q.payload);
    } else {
      value = JSON.parse(raw);
    }
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

export function guardedListener(receiver: HTTPReceiver, signingSecret: string): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== SLACK_PATH) {
      receiver.requestListener(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY && !refused) {
        refused = true;
        res.writeHead(413);
        res.end();
        req.destroy();
      } else if (!refused) chunks.push(c);
    });
    req.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(400);
        res.end();
      }
    });
    req.on('end', () => {
      if (refused) return;
      const raw = Buffer.concat(chunks);
      const text = raw.toString('utf8');
      if (!isObjectBody(text, header(req, 'content-type'))) {
        const signed = isValidSlackRequest({
          signingSecret,
          body: text,
          headers: { 'x-slack-signature': header(req, 'x-slack-signature'), 'x-slack-request-timestamp': Number(header(req, 'x-slack-request-timestamp')) },
        });
        res.writeHead(signed ? 400 : 401);
        res.end();
        return;
      }
      // Bolt reads a body already buffered on `rawBody` instead of the consumed stream.
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      receiver.requestListener(req, res);
    });
  };
}
