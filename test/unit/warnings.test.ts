import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dueWarning, nextWarningAt, warningSpans } from '../../src/domain/warnings.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('expiry warnings: when a holder is warned', () => {
  test('by default a grant over a day is warned a day and an hour before, over an hour 10 minutes before, a shorter one never', () => {
    assert.deepEqual(warningSpans(undefined, 2 * DAY), [DAY, HOUR]);
    assert.deepEqual(warningSpans(undefined, DAY), [10 * MIN], 'exactly a day is not over a day');
    assert.deepEqual(warningSpans(undefined, 4 * HOUR), [10 * MIN]);
    assert.deepEqual(warningSpans(undefined, HOUR), []);
    assert.deepEqual(warningSpans(undefined, 30 * MIN), []);
  });

  test("the catalog's warnBefore replaces the defaults; a span as long as the grant is dropped", () => {
    assert.deepEqual(warningSpans([15 * MIN, 2 * HOUR], 8 * HOUR), [2 * HOUR, 15 * MIN]);
    assert.deepEqual(warningSpans([8 * HOUR, HOUR], 8 * HOUR), [HOUR]);
    assert.deepEqual(warningSpans([], 2 * DAY), []);
  });

  test('only points still ahead are armed; missed points send one warning, the nearest to the end', () => {
    const end = 10 * DAY;
    const spans = [DAY, HOUR];
    assert.equal(nextWarningAt(spans, end, 0), end - DAY);
    assert.equal(nextWarningAt(spans, end, end - DAY), end - HOUR);
    assert.equal(nextWarningAt(spans, end, end - HOUR), null);
    assert.equal(dueWarning(spans, end, end - DAY, end - DAY - 1), undefined);
    assert.equal(dueWarning(spans, end, end - DAY, end - DAY), DAY);
    assert.equal(dueWarning(spans, end, end - DAY, end - 30 * MIN), HOUR, 'both passed while down: the hour one');
  });
});
