import { describe, expect, it } from '@jest/globals';
import { AppError } from '../common/errors/app-error.js';
import { isVerifiedAddress, verifiedAfterAdminChange } from './email-rules.js';
import { resetAddress } from './user.entity.js';

const none = { email: null, emailVerified: false };
const verified = { email: 'Alice@Example.com', emailVerified: true };
const unverified = { email: 'alice@example.com', emailVerified: false };

describe('verifiedAfterAdminChange', () => {
  it('verifies an address an admin sets, unless told emailVerified: false', () => {
    expect(verifiedAfterAdminChange(none, 'a@example.com', undefined)).toBe(true);
    expect(verifiedAfterAdminChange(none, 'a@example.com', false)).toBe(false);
    expect(verifiedAfterAdminChange(unverified, 'b@example.com', undefined)).toBe(true);
    expect(verifiedAfterAdminChange(verified, 'b@example.com', false)).toBe(false);
  });

  it('keeps the state of an unchanged address unless the flag is sent', () => {
    expect(verifiedAfterAdminChange(unverified, undefined, undefined)).toBe(false);
    expect(verifiedAfterAdminChange(verified, undefined, undefined)).toBe(true);
    expect(verifiedAfterAdminChange(unverified, undefined, true)).toBe(true);
    expect(verifiedAfterAdminChange(verified, undefined, false)).toBe(false);
  });

  it('verifies nothing without an address, and refuses to be asked to', () => {
    expect(verifiedAfterAdminChange(verified, null, undefined)).toBe(false);
    expect(verifiedAfterAdminChange(none, undefined, false)).toBe(false);
    expect(verifiedAfterAdminChange(none, null, undefined)).toBe(false);
    for (const [current, email] of [
      [none, undefined],
      [verified, null],
    ] as const) {
      let thrown: unknown;
      try {
        verifiedAfterAdminChange(current, email, true);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect(thrown).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [expect.objectContaining({ field: 'emailVerified', rule: 'requiresEmail' })],
      });
    }
  });
});

describe('isVerifiedAddress', () => {
  it('is true only for the bound, verified address, in any case', () => {
    expect(isVerifiedAddress(verified, 'alice@example.COM')).toBe(true);
    expect(isVerifiedAddress(verified, 'bob@example.com')).toBe(false);
    expect(isVerifiedAddress(unverified, 'alice@example.com')).toBe(false);
    expect(isVerifiedAddress(none, 'alice@example.com')).toBe(false);
  });
});

describe('resetAddress', () => {
  it('is the bound address only when it is verified', () => {
    expect(resetAddress(verified)).toBe('Alice@Example.com');
    expect(resetAddress(unverified)).toBeNull();
    expect(resetAddress(none)).toBeNull();
  });
});
