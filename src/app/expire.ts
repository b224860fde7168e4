import type { Deps } from './context.js';
import { startRevocation } from './revoke.js';

/**
 * Starts revocation of every grant whose expiry has passed. Batched so one transaction stays
 * short even when thousands expire in the same second. Returns how many were started.
 */
export function expireDue(ctx: Deps<'store' | 'now' | 'catalog' | 'adminChannel'>, batch = 500): number {
  let started = 0;
  for (;;) {
    const now = ctx.now();
    const due = ctx.store.dueGrants(now, batch);
    if (due.length === 0) return started;
    const n = ctx.store.tx((store) => due.filter((r) => startRevocation({ ...ctx, store }, r.id, 'expired')).length);
    started += n;
    if (due.length < batch || n === 0) return started;
  }
}
