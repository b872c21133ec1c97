import { AppError } from '../common/errors/app-error.js';

/** What the rules need to know of a user's address. */
export interface BoundEmail {
  email: string | null;
  emailVerified: boolean;
}

/**
 * Whether the address an admin leaves a user with counts as verified. A new address (created or
 * changed by the admin) is, unless the admin sends `emailVerified: false`; an unchanged one keeps
 * its state unless the admin sends the flag; without an address nothing is verified, and asking
 * for it is a 400.
 *
 * `newEmail`: the address the admin sets, `null` to unbind, `undefined` when it does not change.
 */
export function verifiedAfterAdminChange(
  current: BoundEmail,
  newEmail: string | null | undefined,
  requested: boolean | undefined,
): boolean {
  const email = newEmail === undefined ? current.email : newEmail;
  if (email === null) {
    if (requested === true) {
      throw new AppError('VALIDATION_FAILED', 'There is no email address to mark verified.', {
        errors: [
          {
            field: 'emailVerified',
            rule: 'requiresEmail',
            message: 'emailVerified can be true only with an email address',
          },
        ],
      });
    }
    return false;
  }
  return requested ?? (newEmail !== undefined ? true : current.emailVerified);
}

/** True when `email` is the account's bound address and it is already verified (any case). */
export function isVerifiedAddress(current: BoundEmail, email: string): boolean {
  return current.emailVerified && current.email?.toLowerCase() === email.toLowerCase();
}
