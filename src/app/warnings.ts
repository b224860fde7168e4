/**
 * Expiry warnings: the holder of a grant is told by DM, with an Extend button, before it ends
 * (domain/warnings.ts says when). Each grant carries its next warning point (`nextWarningAt`),
 * set when its expiry is set (the grant, an approved extension) and advanced past now when a
 * warning is sent, in the transaction that enqueues the DM: a point fires once, across restarts,
 * and a moved expiry re-arms only the points still ahead of it.
 *
 * Run by the routing timers' one-second tick over the index of warning points: warnings measured
 * in minutes need no timer of their own, and nothing is read while nothing is due.
 */
import { findRole } from '../domain/catalog.js';
import { dueWarning, nextWarningAt, warningSpans } from '../domain/warnings.js';
import { mustGet, type Deps, type Tx } from './context.js';
import { enqueue } from './effects.js';
import type { RequestRecord } from './ports/store.js';

export type WarningsDeps = Deps<'store' | 'catalog' | 'now'>;

function spansOf(ctx: Pick<Tx, 'catalog'>, r: RequestRecord): number[] {
  if (r.expiresAt === null || r.grantedAt === null) return [];
  return warningSpans(findRole(ctx.catalog(), r.appId, r.roleId)?.role.warnBefore, r.expiresAt - r.grantedAt);
}

/** Arms a grant's warnings after its expiry was set or moved (inside that transaction). */
export function armWarnings(ctx: Pick<Tx, 'store' | 'catalog' | 'now'>, requestId: string): void {
  const r = mustGet(ctx, requestId);
  const next = r.state === 'active' && r.expiresAt !== null ? nextWarningAt(spansOf(ctx, r), r.expiresAt, ctx.now()) : null;
  if (next !== r.nextWarningAt) ctx.store.updateRequest(r.id, { nextWarningAt: next }, ctx.now());
}

function warnIfDue(ctx: Pick<Tx, 'store' | 'catalog' | 'now'>, requestId: string): void {
  const r = mustGet(ctx, requestId);
  const now = ctx.now();
  if (r.state !== 'active' || r.expiresAt === null || r.nextWarningAt === null) {
    ctx.store.updateRequest(r.id, { nextWarningAt: null }, now);
    return;
  }
  const spans = spansOf(ctx, r);
  const before = dueWarning(spans, r.expiresAt, r.nextWarningAt, now);
  if (before !== undefined) {
    ctx.store.appendAudit(r.id, now, 'access-bot', { type: 'expiry_warned', before, expiresAt: r.expiresAt });
    enqueue(ctx.store, { kind: 'slack.expiryWarning', requestId: r.id, expiresAt: r.expiresAt });
  }
  ctx.store.updateRequest(r.id, { nextWarningAt: nextWarningAt(spans, r.expiresAt, now) }, now);
}

/** Sends every warning that is due, each grant in its own transaction. Returns how many grants were handled. */
export function runDueWarnings(ctx: WarningsDeps, batch = 200): number {
  let handled = 0;
  for (;;) {
    const due = ctx.store.warningsDue(ctx.now(), batch);
    for (const r of due) ctx.store.tx((store) => warnIfDue({ ...ctx, store }, r.id));
    handled += due.length;
    if (due.length < batch) return handled;
  }
}
