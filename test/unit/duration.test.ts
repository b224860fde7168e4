import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeDuration, describeMs, MAX_DURATION_MS, parseDuration } from '../../src/domain/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('durations are written <n>s|m|h|d or permanent', () => {
  const valid: [string, number | null][] = [
    ['10s', 10 * S],
    ['30m', 30 * M],
    ['1h', H],
    ['4h', 4 * H],
    ['7d', 7 * D],
    ['3650d', 3650 * D],
    ['87600h', 3650 * D],
    ['permanent', null],
  ];
  for (const [token, ms] of valid) {
    test(`"${token}" is ${ms === null ? 'permanent' : `${ms} ms`}`, () => {
      assert.deepEqual(parseDuration(token), { token, ms });
    });
  }

  test('surrounding spaces are ignored and not kept in the token', () => {
    assert.deepEqual(parseDuration('  8h \n'), { token: '8h', ms: 8 * H });
    assert.deepEqual(parseDuration(' permanent '), { token: 'permanent', ms: null });
  });

  const invalid: [string, string][] = [
    ['', 'empty'],
    ['h', 'no number'],
    ['10', 'no unit'],
    ['0s', 'zero'],
    ['01h', 'a leading zero'],
    ['-1h', 'negative'],
    ['1.5h', 'a fraction'],
    ['1 h', 'a space inside'],
    ['1w', 'an unknown unit'],
    ['1H', 'an upper-case unit'],
    ['Permanent', 'permanent capitalised'],
    ['forever', 'a word other than permanent'],
    ['1000000s', 'more than six digits'],
    ['3651d', 'longer than ten years'],
    ['87601h', 'longer than ten years, in hours'],
  ];
  for (const [token, why] of invalid) {
    test(`"${token}" is refused (${why})`, () => {
      assert.equal(parseDuration(token), undefined);
    });
  }

  test('the longest accepted duration is ten years', () => {
    assert.equal(MAX_DURATION_MS, 3650 * D);
  });
});

describe('durations read like "10 seconds", "30 minutes", "4 hours", "7 days", "Permanent"', () => {
  const words: [string, string][] = [
    ['10s', '10 seconds'],
    ['1s', '1 second'],
    ['30m', '30 minutes'],
    ['1m', '1 minute'],
    ['4h', '4 hours'],
    ['1h', '1 hour'],
    ['7d', '7 days'],
    ['1d', '1 day'],
    ['90m', '90 minutes'],
    ['permanent', 'Permanent'],
  ];
  for (const [token, expected] of words) {
    test(`${token} → ${expected}`, () => {
      const d = parseDuration(token);
      assert.ok(d, `${token} should parse`);
      assert.equal(describeDuration(d), expected);
    });
  }

  test('the unit the catalog wrote is kept: 60m is not rewritten as 1 hour', () => {
    assert.equal(describeDuration({ token: '60m', ms: H }), '60 minutes');
  });
});

describe('spans in messages use the largest whole unit', () => {
  const spans: [number, string][] = [
    [3 * D, '3 days'],
    [D, '1 day'],
    [36 * H, '36 hours'],
    [H, '1 hour'],
    [90 * M, '90 minutes'],
    [M, '1 minute'],
    [15 * S, '15 seconds'],
    [S, '1 second'],
    [90 * S, '90 seconds'],
    [2500, '3 seconds'],
  ];
  for (const [ms, expected] of spans) {
    test(`${ms} ms → ${expected}`, () => {
      assert.equal(describeMs(ms), expected);
    });
  }

  test('a span that rounds to one second is singular', () => {
    assert.equal(describeMs(500), '1 second');
    assert.equal(describeMs(1400), '1 second');
  });
});
