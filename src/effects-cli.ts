/**
 * `access-bot effects list | retry <id>... | retry --all`: the admin's view of effects that
 * failed for good, and the way to run them again. Works on the database file directly, so it
 * also works while the bot runs (the bot's dispatcher picks revived effects up within a second).
 */
import { retryDeadEffect } from './app/retryEffect.js';
import { openStorage } from './compose.js';
import { databaseTarget } from './config/env.js';
import { formatTime } from './domain/steps.js';

const USAGE = 'Usage: access-bot effects list | effects retry <id>... | effects retry --all';

export function runEffects(args: string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void): number {
  const [sub, ...ids] = args;
  if (sub !== 'list' && sub !== 'retry') {
    err(USAGE);
    return 2;
  }
  const storage = openStorage(databaseTarget(env));
  const { outbox, store } = storage;
  try {
    const dead = outbox.dead();
    if (sub === 'list') {
      if (dead.length === 0) out('No dead effects.');
      for (const e of dead) out(`${e.id}\t${e.kind}\t${e.requestId ?? '-'}\tcreated ${formatTime(e.createdAt)}\t${e.lastError ?? ''}`);
      return 0;
    }
    const targets = ids.length === 1 && ids[0] === '--all' ? dead.map((e) => e.id) : ids.map(Number);
    if (targets.length === 0 || targets.some((n) => !Number.isInteger(n) || n <= 0)) {
      err(USAGE);
      return 2;
    }
    const by = env.USER ? `admin ${env.USER}` : 'an admin';
    let failed = 0;
    for (const id of targets) {
      const r = retryDeadEffect({ store, outbox, now: Date.now }, id, by);
      (r.ok ? out : err)(r.message);
      if (!r.ok) failed++;
    }
    return failed > 0 ? 1 : 0;
  } finally {
    storage.close();
  }
}
