import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  blocksOnPage,
  escalationTargets,
  isComplete,
  isSelf,
  MESSAGE_MAX_BLOCKS,
  nextReviewTimer,
  pageOf,
  recommend,
  reviewDue,
  reviewersFor,
  ROWS_PER_PAGE,
  scheduleDue,
  type ReviewClock,
  type ReviewerCandidate,
} from '../../src/domain/accessReview.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 5, 1, 12);

describe('access reviews: the recommendation', () => {
  const advise = (lastLogin: Parameters<typeof recommend>[0]['lastLogin']) => recommend({ lastLogin, now: NOW, inactiveAfterMs: 90 * DAY, source: 'okta' });

  test('revoke when the person never signed in, or not within inactiveAfter', () => {
    assert.deepEqual(advise({ known: true, at: null }), { action: 'revoke', why: 'never logged in' });
    assert.deepEqual(advise({ known: true, at: NOW - 124 * DAY }), { action: 'revoke', why: 'no login in 124 days (more than 90 days)' });
  });

  test('keep when they signed in recently, exactly at the limit included', () => {
    assert.deepEqual(advise({ known: true, at: NOW - 3 * DAY - HOUR }), { action: 'keep', why: 'last login 3 days ago' });
    assert.deepEqual(advise({ known: true, at: NOW - 90 * DAY }), { action: 'keep', why: 'last login 90 days ago' });
    assert.deepEqual(advise({ known: true, at: NOW - HOUR }), { action: 'keep', why: 'logged in today' });
    assert.deepEqual(advise({ known: true, at: NOW - DAY }), { action: 'keep', why: 'last login 1 day ago' });
  });

  test('keep, saying so, when the IdP cannot tell: a reviewer decides without advice to revoke', () => {
    assert.deepEqual(advise({ known: false }), { action: 'keep', why: 'last login not known (okta cannot say)' });
  });
});

describe('access reviews: who reviews whom', () => {
  const bob: ReviewerCandidate = { email: 'bob@example.com', idpUserId: '00ubob' };
  const ann: ReviewerCandidate = { email: 'ann@example.com' };
  const carol: ReviewerCandidate = { email: 'carol@example.com' };
  const lead: ReviewerCandidate = { email: 'lead@example.com' };
  const managers = new Map([['bob@example.com', carol]]);
  const managerOf = (r: ReviewerCandidate) => managers.get(r.email);

  test('someone who is not a reviewer is reviewed by every reviewer', () => {
    assert.deepEqual(reviewersFor({ email: 'dave@example.com', idpUserId: '00udave' }, { reviewers: [bob, ann], managerOf, fallback: [] }), { via: 'reviewer', reviewers: [bob, ann] });
  });

  test("a reviewer's own access is reviewed by their manager, not by them nor by a co-reviewer", () => {
    assert.deepEqual(reviewersFor({ email: 'BOB@example.com', idpUserId: '00ubob' }, { reviewers: [bob, ann], managerOf, fallback: [lead] }), { via: 'manager', reviewers: [carol] });
  });

  test('the same person under another email in the IdP is still themselves', () => {
    assert.equal(isSelf(bob, { email: 'robert@example.com', idpUserId: '00ubob' }), true);
    assert.equal(isSelf(ann, { email: null, idpUserId: '00uann' }), false);
  });

  test('without a manager: the fallback; without one: the other reviewers; with nobody: nobody, and why', () => {
    assert.deepEqual(reviewersFor({ email: 'ann@example.com', idpUserId: '00uann' }, { reviewers: [bob, ann], managerOf, fallback: [lead] }), { via: 'fallback', reviewers: [lead] });
    assert.deepEqual(reviewersFor({ email: 'ann@example.com', idpUserId: '00uann' }, { reviewers: [bob, ann], managerOf, fallback: [] }), { via: 'co_reviewer', reviewers: [bob] });
    const alone = reviewersFor({ email: 'ann@example.com', idpUserId: '00uann' }, { reviewers: [ann], managerOf, fallback: [ann] });
    assert.equal(alone.via, 'nobody');
    assert.equal(alone.reviewers.length, 0);
  });

  test('a manager who is the reviewed person does not review themselves either', () => {
    const selfManaged = (r: ReviewerCandidate) => (r.email === 'bob@example.com' ? bob : undefined);
    assert.deepEqual(reviewersFor({ email: 'bob@example.com', idpUserId: '00ubob' }, { reviewers: [bob], managerOf: selfManaged, fallback: [lead] }), { via: 'fallback', reviewers: [lead] });
  });

  test('escalation goes to the manager, else to the fallback, never back to the reviewer', () => {
    assert.deepEqual(escalationTargets(bob, carol, [lead]), [carol]);
    assert.deepEqual(escalationTargets(bob, undefined, [lead, bob]), [lead]);
    assert.deepEqual(escalationTargets(bob, bob, []), []);
  });
});

describe("access reviews: paging within Block Kit's 50 blocks", () => {
  test('a page holds as many rows as fit with the heading and the page buttons', () => {
    assert.equal(ROWS_PER_PAGE, 23);
    assert.ok(blocksOnPage(ROWS_PER_PAGE, 2) <= MESSAGE_MAX_BLOCKS);
    assert.ok(blocksOnPage(ROWS_PER_PAGE + 1, 2) > MESSAGE_MAX_BLOCKS, 'one more row would not fit');
  });

  test('10,000 rows make 435 pages; the last holds the rest; every page fits', () => {
    const last = pageOf(10_000, 434);
    assert.deepEqual(last, { index: 434, count: 435, from: 434 * 23, to: 10_000 });
    for (const p of [0, 1, 200, 434]) {
      const page = pageOf(10_000, p);
      assert.ok(blocksOnPage(page.to - page.from, page.count) <= MESSAGE_MAX_BLOCKS);
    }
  });

  test('a page out of range is the nearest one; no rows is one empty page', () => {
    assert.deepEqual(pageOf(60, 7), { index: 2, count: 3, from: 46, to: 60 });
    assert.deepEqual(pageOf(60, -1), { index: 0, count: 3, from: 0, to: 23 });
    assert.deepEqual(pageOf(0, 0), { index: 0, count: 1, from: 0, to: 0 });
    assert.equal(blocksOnPage(5, 1), 12, 'one page: no page buttons');
  });
});

describe('access reviews: reminders, escalation and the due date', () => {
  const start = NOW;
  const clock = (o: Partial<ReviewClock> = {}): ReviewClock => ({
    startedAt: start,
    dueAt: start + 14 * DAY,
    onDue: 'keep',
    remindBeforeMs: [3 * DAY, DAY],
    remindedAt: null,
    escalatedAt: null,
    dueHandledAt: null,
    ...o,
  });

  test('reminders at each span before the due date, each once', () => {
    const c = clock();
    assert.equal(nextReviewTimer(start, c), start + 11 * DAY);
    assert.deepEqual(reviewDue(start + 11 * DAY - 1, c), { due: false, escalate: false, remind: false });
    assert.deepEqual(reviewDue(start + 11 * DAY, c), { due: false, escalate: false, remind: true });
    const reminded = clock({ remindedAt: start + 11 * DAY });
    assert.equal(reviewDue(start + 12 * DAY, reminded).remind, false);
    assert.equal(nextReviewTimer(start + 11 * DAY, reminded), start + 13 * DAY);
  });

  test('reminders missed while the bot was down send one, at once', () => {
    const c = clock();
    assert.deepEqual(reviewDue(start + 13 * DAY + HOUR, c), { due: false, escalate: false, remind: true });
    assert.equal(nextReviewTimer(start + 13 * DAY + HOUR, clock({ remindedAt: start + 13 * DAY + HOUR })), start + 14 * DAY);
  });

  test('escalation after escalateAfter, once; the due date wins over what falls before it', () => {
    const c = clock({ escalateAfterMs: 10 * DAY, remindBeforeMs: [] });
    assert.equal(nextReviewTimer(start, c), start + 10 * DAY);
    assert.deepEqual(reviewDue(start + 10 * DAY, c), { due: false, escalate: true, remind: false });
    assert.equal(nextReviewTimer(start + 10 * DAY, clock({ escalateAfterMs: 10 * DAY, remindBeforeMs: [], escalatedAt: start + 10 * DAY })), start + 14 * DAY);
    assert.deepEqual(reviewDue(start + 20 * DAY, c), { due: true, escalate: false, remind: false });
  });

  test('after the due date nothing is left, unless the review was escalated and stays open: then a reminder a day', () => {
    const kept = clock({ dueHandledAt: start + 14 * DAY, remindedAt: start + 13 * DAY });
    assert.equal(nextReviewTimer(start + 14 * DAY, kept), null);
    const escalated = clock({ onDue: 'escalate', dueHandledAt: start + 14 * DAY, remindedAt: start + 13 * DAY });
    assert.equal(nextReviewTimer(start + 14 * DAY, escalated), start + 15 * DAY);
    assert.equal(reviewDue(start + 15 * DAY, escalated).remind, true);
  });

  test('spans that fall before the start remind nobody', () => {
    assert.equal(nextReviewTimer(start, clock({ dueAt: start + 2 * DAY })), start + DAY);
    assert.equal(nextReviewTimer(start, clock({ dueAt: start + HOUR })), start + HOUR);
  });

  test('a schedule starts a review when none of its scope started within `every`', () => {
    assert.equal(scheduleDue(NOW, 90 * DAY, undefined), true);
    assert.equal(scheduleDue(NOW, 90 * DAY, NOW - 89 * DAY), false);
    assert.equal(scheduleDue(NOW, 90 * DAY, NOW - 90 * DAY), true);
  });

  test('complete once every row is decided and every revocation has settled', () => {
    const t = { total: 3, undecided: 0, kept: 2, revoked: 1, keptAtDue: 0, revokedAtDue: 0, removing: 1, removed: 0, keptMembership: 0, failed: 0 };
    assert.equal(isComplete(t), false);
    assert.equal(isComplete({ ...t, removing: 0, removed: 1 }), true);
    assert.equal(isComplete({ ...t, undecided: 1, removing: 0 }), false);
  });
});
