/**
 * The audit log's hash chain (ARCHITECTURE.md §3: "each carries the hash of the previous one so
 * tampering shows"), checked. Each event's hash covers the previous event's hash and its own
 * request id, time, actor and data; the first event follows the genesis hash. So:
 *   - an event whose contents were changed no longer matches its hash;
 *   - an event deleted, inserted or moved breaks the link (prev_hash) of the event after it;
 *   - an event changed and re-hashed breaks the link of the event after it;
 *   - events deleted from the end leave an intact chain, shorter: only a head recorded earlier
 *     (in an export) shows it, hence `expected`.
 * Pure: the caller reads the events in seq order and passes the hash function in.
 */

export const GENESIS_HASH = '0'.repeat(64);

/** An audit event as stored, every column. */
export interface StoredAuditEvent {
  seq: number;
  requestId: string | null;
  at: number;
  type: string;
  actor: string;
  data: string;
  prevHash: string;
  hash: string;
}

/** The last event of the chain: what an export records so later tampering shows. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/** The hash of an event, from the previous event's hash and its own contents. */
export type ChainHash = (prev: string, requestId: string | null, at: number, actor: string, data: string) => string;

export type ChainCheck =
  | { ok: true; events: number; head: AuditHead }
  | {
      ok: false;
      /** Events checked before the broken one (all intact). */
      events: number;
      /** The first event that does not hold (undefined: the chain holds, but not the expected head). */
      broken?: Pick<StoredAuditEvent, 'seq' | 'requestId' | 'type' | 'at'>;
      /** What differs, in words, with the values involved. */
      what: string;
    };

/**
 * Recomputes the chain, event by event in seq order, and reports the first broken link. With
 * `expected` (a head an export recorded), that event must still be there with that hash.
 */
export function checkChain(events: Iterable<StoredAuditEvent>, hashOf: ChainHash, expected?: AuditHead): ChainCheck {
  let prev: AuditHead = { seq: 0, hash: GENESIS_HASH };
  let count = 0;
  let sawExpected = false;
  for (const e of events) {
    const broken = { seq: e.seq, requestId: e.requestId, type: e.type, at: e.at };
    if (e.prevHash !== prev.hash) {
      const before = prev.seq === 0 ? 'the chain starts from the genesis hash' : `the event before it (seq ${prev.seq}) has hash ${prev.hash}`;
      const gap = e.seq !== prev.seq + 1 ? ` (seq jumps from ${prev.seq} to ${e.seq})` : '';
      return { ok: false, events: count, broken, what: `prev_hash is ${e.prevHash}, but ${before}: an event before it was deleted, inserted, moved or changed and re-hashed${gap}` };
    }
    const recomputed = hashOf(e.prevHash, e.requestId, e.at, e.actor, e.data);
    if (e.hash !== recomputed) {
      return { ok: false, events: count, broken, what: `its contents hash to ${recomputed}, not to the stored ${e.hash}: its request_id, at, actor or data was changed after it was written` };
    }
    const dataType = typeOfData(e.data);
    if (dataType !== e.type) {
      return { ok: false, events: count, broken, what: `its type column says "${e.type}" but its hashed data says ${dataType === undefined ? 'no type' : `"${dataType}"`}: the type column was changed` };
    }
    if (expected && e.seq === expected.seq) {
      if (e.hash !== expected.hash) return { ok: false, events: count, broken, what: `it has hash ${e.hash}, not the ${expected.hash} an export recorded as the head: the log was rewritten from this event on` };
      sawExpected = true;
    }
    prev = { seq: e.seq, hash: e.hash };
    count++;
  }
  if (expected && !sawExpected) {
    return {
      ok: false,
      events: count,
      what: `the head an export recorded (seq ${expected.seq}, sha256 ${expected.hash}) is not in the log, which ends at seq ${prev.seq}: ${expected.seq > prev.seq ? 'events were deleted from its end' : 'that event was deleted'}`,
    };
  }
  return { ok: true, events: count, head: prev };
}

function typeOfData(data: string): string | undefined {
  try {
    const t = (JSON.parse(data) as { type?: unknown } | null)?.type;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}
