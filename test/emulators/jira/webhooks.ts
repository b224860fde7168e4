/**
 * The admin webhook of the emulated site: Jira Cloud POSTs each issue event to the registered
 * URL, signed, and delivers it at least once. Used by the site (site.ts `emit`, `changed`) and
 * reusable by any route that makes an event.
 *
 * As Jira Cloud does it (https://developer.atlassian.com/cloud/jira/platform/webhooks/):
 * - a webhook registered with a secret carries `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256
 *   of the raw body with the secret ("Secure admin webhooks", the scheme src/adapters/jira/webhook.ts
 *   verifies);
 * - `X-Atlassian-Webhook-Identifier` names the delivery and stays the same when it is retried;
 * - a delivery answered 408, 409, 425, 429 or 5xx, or whose connection fails or times out, is
 *   retried, with `X-Atlassian-Webhook-Retry: <n>` ("Retry policy"; announced in
 *   https://community.developer.atlassian.com/t/new-jira-cloud-webhook-retry-policy/30554, which
 *   says a webhook "might be delivered more than once" and "later than usually"). Jira spaces its
 *   retries over up to 30 minutes; here they come after `retryDelaysMs`.
 *
 * Faults, for tests and the chaos run: `dropNext(n)` / `dropRate` lose deliveries for good (the
 * poll must find what they carried), `duplicateNext(n)` / `duplicateRate` deliver one twice
 * under the same identifier (an acknowledgement lost on the way back), `pause()` holds every
 * delivery until `resume()` (a slow webhook queue).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { Json } from './wire.js';

/** One change of one field, as a webhook's and the REST changelog's `items` carry it. */
export interface ChangelogItem {
  field: string;
  fieldtype: 'jira' | 'custom';
  fieldId: string;
  from: string | null;
  fromString: string | null;
  to: string | null;
  toString: string | null;
}

export interface WebhookTarget {
  url: string;
  /** Registered with a secret: deliveries are signed. */
  secret?: string;
  /** Events sent; default every issue event. */
  events?: string[];
}

export interface WebhookFaults {
  /** Share of deliveries lost for good (0..1). */
  dropRate?: number;
  /** Share of deliveries sent twice (0..1). */
  duplicateRate?: number;
  /** Random numbers in [0, 1) for the rates; default Math.random (a seeded one for replayable runs). */
  random?: () => number;
}

/** What happened to one delivery. */
export interface DeliveryRecord {
  id: string;
  event: string;
  issueKey?: string;
  body: string;
  /** `dropped`: never sent; `delivered`: answered 2xx; `failed`: retries used up. */
  outcome: 'dropped' | 'pending' | 'delivered' | 'failed';
  /** The status of each attempt (0: no answer). */
  attempts: number[];
  /** Sent twice under the same identifier. */
  duplicated: boolean;
}

/** Statuses Jira retries (Retry policy). */
const RETRIED = new Set([408, 409, 425, 429]);

export class WebhookSender {
  readonly deliveries: DeliveryRecord[] = [];
  faults: WebhookFaults = {};
  /** Waits before retry 1, 2, … (Jira: minutes). */
  retryDelaysMs: number[] = [50, 100, 200, 400, 800];
  timeoutMs = 10_000;
  private target: WebhookTarget | undefined;
  private toDrop = 0;
  private toDuplicate = 0;
  /** When set, `dropNext` / `duplicateNext` apply only to deliveries of this event (another test's late comment must not take them). */
  private faultEvent: string | undefined;
  private paused: (() => void)[] | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  register(target: WebhookTarget): void {
    this.target = { ...target };
  }

  unregister(): void {
    this.target = undefined;
  }

  get registered(): WebhookTarget | undefined {
    return this.target;
  }

  dropNext(n = 1, event?: string): void {
    this.faultEvent = event;
    this.toDrop += n;
  }

  duplicateNext(n = 1, event?: string): void {
    this.faultEvent = event;
    this.toDuplicate += n;
  }

  pause(): void {
    this.paused ??= [];
  }

  resume(): void {
    const held = this.paused ?? [];
    this.paused = undefined;
    for (const go of held) go();
  }

  /** Resolves once no delivery is in flight or waiting for a retry (held ones count only after resume()). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Deliveries of an event for an issue, in order. */
  of(event: string, issueKey?: string): DeliveryRecord[] {
    return this.deliveries.filter((d) => d.event === event && (issueKey === undefined || d.issueKey === issueKey));
  }

  /**
   * Sends an event, built when it is sent (the issue as it is now). Nothing happens when no
   * webhook is registered for it.
   */
  send(event: string, payload: () => Json): void {
    const t = this.target;
    if (!t || (t.events && !t.events.includes(event))) return;
    const body = JSON.stringify(payload());
    const issue = (JSON.parse(body) as { issue?: { key?: unknown } }).issue;
    const d: DeliveryRecord = { id: randomUUID(), event, issueKey: typeof issue?.key === 'string' ? issue.key : undefined, body, outcome: 'pending', attempts: [], duplicated: false };
    this.deliveries.push(d);
    const random = this.faults.random ?? Math.random;
    const targeted = this.faultEvent === undefined || this.faultEvent === event;
    if ((targeted && this.toDrop > 0) || (this.faults.dropRate ?? 0) > random()) {
      if (targeted && this.toDrop > 0) this.toDrop -= 1;
      d.outcome = 'dropped';
      return;
    }
    d.duplicated = (targeted && this.toDuplicate > 0) || (this.faults.duplicateRate ?? 0) > random();
    if (targeted && this.toDuplicate > 0 && d.duplicated) this.toDuplicate -= 1;
    this.track(this.deliver(t, d));
    if (d.duplicated) this.track(this.deliver(t, d));
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(t: WebhookTarget, d: DeliveryRecord): Promise<void> {
    if (this.paused) {
      await new Promise<void>((go) => this.paused!.push(go));
      if (!this.target) {
        d.outcome = 'failed';
        return;
      }
      t = this.target;
    }
    for (let retry = 0; ; retry++) {
      const status = await this.post(t, d, retry);
      d.attempts.push(status);
      if (status >= 200 && status < 300) {
        d.outcome = 'delivered';
        return;
      }
      const again = status === 0 || status >= 500 || RETRIED.has(status);
      if (!again || retry >= this.retryDelaysMs.length) {
        if (d.outcome !== 'delivered') d.outcome = 'failed';
        return;
      }
      await new Promise((r) => setTimeout(r, this.retryDelaysMs[retry]));
      // Unregistered meanwhile (the site stops): nothing more is sent. Re-registered: the new URL.
      if (!this.target) {
        d.outcome = 'failed';
        return;
      }
      t = this.target;
    }
  }

  /** One attempt; the status, or 0 when no answer came. */
  private async post(t: WebhookTarget, d: DeliveryRecord, retry: number): Promise<number> {
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Atlassian Webhook HTTP Client',
      'x-atlassian-webhook-identifier': d.id,
      'x-atlassian-webhook-flow': 'Primary',
    };
    if (t.secret) headers['x-hub-signature'] = `sha256=${createHmac('sha256', t.secret).update(d.body).digest('hex')}`;
    if (retry > 0) headers['x-atlassian-webhook-retry'] = String(retry);
    try {
      const res = await fetch(t.url, { method: 'POST', headers, body: d.body, signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }
}
