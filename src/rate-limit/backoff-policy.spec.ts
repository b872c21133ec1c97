import { describe, expect, it } from '@jest/globals';
import { type BackoffPolicy, waitAfter } from './backoff-policy.js';

const policy: BackoffPolicy = {
  freeFailures: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 900_000,
  forgetAfterMs: 3_600_000,
};

describe('waitAfter', () => {
  it('lets the first failures through without waiting', () => {
    expect(waitAfter(policy, 4, 1000, 1000)).toBe(0);
  });

  it('makes the caller wait once the free failures are spent', () => {
    expect(waitAfter(policy, 5, 1000, 1000)).toBe(30_000);
  });

  it('doubles the wait with each further failure', () => {
    expect(waitAfter(policy, 6, 0, 0)).toBe(60_000);
    expect(waitAfter(policy, 7, 0, 0)).toBe(120_000);
  });

  it('never waits longer than the cap, however many failures', () => {
    expect(waitAfter(policy, 1000, 0, 0)).toBe(900_000);
  });

  it('counts the wait from the last failure', () => {
    expect(waitAfter(policy, 5, 0, 10_000)).toBe(20_000);
    expect(waitAfter(policy, 5, 0, 30_000)).toBe(0);
  });
});
