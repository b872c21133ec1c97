/**
 * How failed attempts turn into waiting. The first `freeFailures` cost nothing; each further
 * failure doubles the wait, from `baseDelayMs` up to `maxDelayMs`. The wait is counted from the
 * last failure and the record is forgotten after `forgetAfterMs` without failures, so nobody is
 * ever locked out for good: an attacker can slow an account down, never close it.
 */
export interface BackoffPolicy {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
}

export const ACCOUNT_POLICY: BackoffPolicy = {
  freeFailures: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

/** Wrong authenticator or recovery codes, per user, across sign-ins, reset flows and settings. */
export const TWO_FACTOR_POLICY: BackoffPolicy = {
  freeFailures: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

/** Reset requests (each one counts, not only failures), per identifier and per client address. */
export const RESET_REQUEST_POLICY: BackoffPolicy = {
  freeFailures: 5,
  baseDelayMs: 60_000,
  maxDelayMs: 60 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

export const RESET_CLIENT_POLICY: BackoffPolicy = {
  freeFailures: 30,
  baseDelayMs: 60_000,
  maxDelayMs: 60 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

/**
 * Requests for a mail that confirms a new email address (every request counts), per user and per
 * client address: as many as reset requests, so that no one floods a mailbox through either.
 */
export const EMAIL_CONFIRMATION_POLICY: BackoffPolicy = RESET_REQUEST_POLICY;
export const EMAIL_CONFIRMATION_CLIENT_POLICY: BackoffPolicy = RESET_CLIENT_POLICY;

export const CLIENT_POLICY: BackoffPolicy = {
  freeFailures: 20,
  baseDelayMs: 60_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

/**
 * Confirmation links refused (unknown, used, expired) per client address: someone trying tokens.
 * Counted like sign-in failures per address; a link that works is taken back.
 */
export const EMAIL_VERIFY_CLIENT_POLICY: BackoffPolicy = CLIENT_POLICY;

/** Milliseconds to wait before the next attempt is allowed (0 = now). */
export function waitAfter(
  policy: BackoffPolicy,
  failures: number,
  lastFailureAt: number,
  nowMs: number,
): number {
  const excess = failures - policy.freeFailures;
  if (excess < 0) {
    return 0;
  }
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(excess, 30));
  return Math.max(0, lastFailureAt + delay - nowMs);
}
