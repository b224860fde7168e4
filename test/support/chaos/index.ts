/**
 * Crash runs and hostile replays against the real bot (see run.ts): the seeded randomness, the
 * world the bot runs in, hand-built Slack payloads, and the invariants a run must keep.
 */
export * from './invariants.js';
export * from './payloads.js';
export * from './rng.js';
export * from './run.js';
export * from './world.js';
