import { describe, expect, it } from '@jest/globals';
import { AppError } from '../common/errors/app-error.js';
import { ChangePasswordDto } from '../users/dto/me.dto.js';
import { pageErrors, validateForm } from './page-errors.js';
import { isPagePath, isMailedLinkPath } from './pages.setup.js';

describe('pageErrors', () => {
  it('puts each broken password rule next to the field, in words', () => {
    const error = new AppError('PASSWORD_POLICY_VIOLATION', 'x', {
      errors: [
        {
          field: 'newPassword',
          rule: 'minLength',
          message: 'newPassword must be at least 8 characters long',
        },
        { field: 'newPassword', rule: 'notCommon', message: 'newPassword is too common' },
      ],
    });
    expect(pageErrors(error, {}, { newPassword: 'The new password' })).toEqual({
      fields: {
        newPassword: [
          {
            text: 'The new password must be at least 8 characters long.',
            key: 'policy.violation.minLength',
            values: {},
            field: 'newPassword',
          },
          {
            text: 'The new password is too common.',
            key: 'policy.violation.notCommon',
            values: {},
            field: 'newPassword',
          },
        ],
      },
      rules: ['minLength', 'notCommon'],
    });
  });

  it('ties a code without fields to the field the page names, or to the form', () => {
    const wrong = new AppError('INVALID_CREDENTIALS', 'The current password is not correct.');
    const text = 'The current password is not correct.';
    expect(pageErrors(wrong, { INVALID_CREDENTIALS: 'currentPassword' })).toEqual({
      fields: {
        currentPassword: [
          { text, key: 'errors.INVALID_CREDENTIALS', values: { field: 'currentPassword' } },
        ],
      },
    });
    expect(pageErrors(wrong, {})).toEqual({
      form: { text, key: 'errors.INVALID_CREDENTIALS', values: { field: 'form' } },
      fields: {},
    });
  });

  it('carries the wait of a throttled attempt for the translated message', () => {
    const throttled = new AppError('TOO_MANY_ATTEMPTS', 'Too many failed attempts.', {
      headers: { 'Retry-After': '30' },
    });
    expect(pageErrors(throttled, {}).form?.values).toEqual({ field: 'form', seconds: 30 });
  });

  it('rethrows anything that is not a service error', () => {
    expect(() => pageErrors(new Error('boom'), {})).toThrow('boom');
  });
});

describe('validateForm', () => {
  it('names the empty fields', async () => {
    await expect(
      validateForm(ChangePasswordDto, { currentPassword: '', newPassword: 'x' }, [
        'currentPassword',
        'newPassword',
      ]),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'currentPassword', rule: 'required' }],
    });
  });

  it('keeps only the fields of the API DTO', async () => {
    const form = { currentPassword: 'a', newPassword: 'b', _csrf: 'token', extra: 'x' };
    await expect(
      validateForm(ChangePasswordDto, form, ['currentPassword', 'newPassword']),
    ).resolves.toMatchObject({ currentPassword: 'a', newPassword: 'b' });
  });
});

describe('page paths', () => {
  it('tells the hosted pages from the API', () => {
    for (const path of [
      '/',
      '/login',
      '/login/two-factor',
      '/account/email',
      '/reset-password',
      '/verify-email',
    ]) {
      expect(isPagePath(path)).toBe(true);
    }
    for (const path of ['/api/v1/auth/login', '/docs', '/health/live', '/loginx', undefined]) {
      expect(isPagePath(path)).toBe(false);
    }
  });

  it('sends no referrer from the pages of mailed links only', () => {
    expect(isMailedLinkPath('/reset-password?token=abc')).toBe(true);
    expect(isMailedLinkPath('/reset-password/two-factor')).toBe(true);
    expect(isMailedLinkPath('/verify-email?token=abc')).toBe(true);
    expect(isMailedLinkPath('/verify-email')).toBe(true);
    expect(isMailedLinkPath('/verify-emails')).toBe(false);
    expect(isMailedLinkPath('/account')).toBe(false);
  });
});
