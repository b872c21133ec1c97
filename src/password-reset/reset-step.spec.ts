import { describe, expect, it } from '@jest/globals';
import { resetStepRefusal, type ResetSessionState, type ResetUserState } from './reset-step.js';

const now = new Date('2026-11-27T10:00:00Z');
const minutesAgo = (n: number) => new Date(now.getTime() - n * 60_000);
const session = (over: Partial<ResetSessionState> = {}): ResetSessionState => ({
  createdAt: minutesAgo(2),
  expiresAt: new Date(now.getTime() + 8 * 60_000),
  finishedAt: null,
  twoFactorVerifiedAt: null,
  ...over,
});
const user = (over: Partial<ResetUserState> = {}): ResetUserState => ({
  disabled: false,
  passwordChangedAt: minutesAgo(60),
  ...over,
});

describe('resetStepRefusal', () => {
  it('lets a fresh session take the two-factor step', () => {
    expect(resetStepRefusal(session(), user(), 'two-factor', now)).toBeNull();
  });

  it('refuses the password step before the two-factor step with TWO_FACTOR_REQUIRED', () => {
    expect(resetStepRefusal(session(), user(), 'password', now)).toBe('TWO_FACTOR_REQUIRED');
  });

  it('allows the password step once the two-factor step succeeded', () => {
    expect(
      resetStepRefusal(session({ twoFactorVerifiedAt: minutesAgo(1) }), user(), 'password', now),
    ).toBeNull();
  });

  it('refuses an unknown, expired or finished session', () => {
    expect(resetStepRefusal(null, user(), 'two-factor', now)).toBe('RESET_SESSION_INVALID');
    expect(resetStepRefusal(session({ expiresAt: now }), user(), 'two-factor', now)).toBe(
      'RESET_SESSION_INVALID',
    );
    expect(resetStepRefusal(session({ finishedAt: minutesAgo(1) }), user(), 'password', now)).toBe(
      'RESET_SESSION_INVALID',
    );
  });

  it('refuses when the user was deleted or disabled meanwhile', () => {
    expect(resetStepRefusal(session(), null, 'two-factor', now)).toBe('RESET_SESSION_INVALID');
    expect(resetStepRefusal(session(), user({ disabled: true }), 'two-factor', now)).toBe(
      'RESET_SESSION_INVALID',
    );
  });

  it('refuses when the password was changed after the session started', () => {
    expect(
      resetStepRefusal(session(), user({ passwordChangedAt: minutesAgo(1) }), 'two-factor', now),
    ).toBe('RESET_SESSION_INVALID');
  });
});
