import type { ErrorCodeName } from '../common/errors/app-error.js';

/** The steps after opening a reset link, in their only allowed order. */
export type ResetStepName = 'two-factor' | 'password';

export interface ResetSessionState {
  expiresAt: Date;
  finishedAt: Date | null;
  createdAt: Date;
  twoFactorVerifiedAt: Date | null;
}

export interface ResetUserState {
  disabled: boolean;
  passwordChangedAt: Date;
}

/**
 * Whether a reset session may take a step now: the whole order of the flow in one place.
 * Returns null when allowed, or the error code to answer.
 */
export function resetStepRefusal(
  session: ResetSessionState | null,
  user: ResetUserState | null,
  step: ResetStepName,
  now: Date,
): ErrorCodeName | null {
  if (!session || session.finishedAt || session.expiresAt <= now) {
    return 'RESET_SESSION_INVALID';
  }
  // A deleted or disabled user, or a password changed meanwhile, ends the flow.
  if (!user || user.disabled || user.passwordChangedAt > session.createdAt) {
    return 'RESET_SESSION_INVALID';
  }
  if (step === 'password' && !session.twoFactorVerifiedAt) {
    return 'TWO_FACTOR_REQUIRED';
  }
  return null;
}
