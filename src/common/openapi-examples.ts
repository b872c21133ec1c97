import type { ExampleObject } from '@nestjs/swagger';
import type { ErrorCodeName, FieldProblem } from './errors/app-error.js';
import { MAX_PATH_PARAMETER_LENGTH } from './errors/framework-errors.js';
import { problemDocument } from './errors/problem-details.filter.js';
import type { DocumentedProblem } from './openapi.js';

// The examples of the problem answers the OpenAPI document shows (see ApiProblems in openapi.ts).

/**
 * The `detail` of each code's example: what the server says most often with that code, in the
 * words of the service or the framework handler that throws it. A code not listed here has no
 * words of its own: the filter then repeats the title, and so does the example.
 */
const EXAMPLE_DETAIL: Partial<Record<ErrorCodeName, string>> = {
  VALIDATION_FAILED: 'Some fields are not valid; see errors.',
  MALFORMED_REQUEST: 'The request body is not valid JSON.',
  URI_TOO_LONG: `A part of the URL path is longer than ${MAX_PATH_PARAMETER_LENGTH} characters.`,
  PAYLOAD_TOO_LARGE: 'The request body exceeds the size limit.',
  UNSUPPORTED_MEDIA_TYPE: 'Send the request body as application/json.',
  UNAUTHORIZED: 'A valid access token is required.',
  FORBIDDEN: 'You do not have the role this requires.',
  INVALID_CREDENTIALS: 'The current password is not correct.',
  ACCOUNT_DISABLED: 'This account is disabled. Contact your administrator.',
  TOO_MANY_ATTEMPTS: 'Too many failed attempts. Try again in 60 seconds.',
  INVALID_REFRESH_TOKEN: 'The refresh token is not valid, expired or already used.',
  PASSWORD_EXPIRED: 'The temporary password has expired. Ask your administrator to set a new one.',
  PASSWORD_CHANGE_REQUIRED:
    'Your password is temporary: change it with PUT /api/v1/me/password first.',
  PASSWORD_POLICY_VIOLATION: 'The password must be at least 8 characters long.',
  USERNAME_TAKEN: 'Another user already has this username.',
  EMAIL_TAKEN: 'Another user already has this email address.',
  USER_NOT_FOUND: 'There is no user with this id.',
  SELF_LOCKOUT: 'You cannot disable your own account or remove your own admin role.',
  CHALLENGE_INVALID: 'The sign-in has expired or is not valid; sign in again.',
  INVALID_TOTP_CODE: 'The code is not valid.',
  TWO_FACTOR_ALREADY_CONFIGURED: 'Two-factor authentication is already on; turn it off first.',
  TWO_FACTOR_SETUP_REQUIRED: 'Start with POST /api/v1/me/two-factor/setup.',
  TWO_FACTOR_NOT_ENABLED: 'Two-factor authentication is not on.',
  TWO_FACTOR_REQUIRED:
    'Confirm with your authenticator (or set one up) before choosing a new password.',
  NO_EMAIL_BOUND:
    'No email is bound to this account; contact the administrator to reset the password.',
  RESET_LINK_INVALID:
    'This reset link is not valid (a newer one may have been sent). Ask for a new link.',
  RESET_LINK_EXPIRED:
    'This reset link has expired (links are valid for 5 minutes). Ask for a new link.',
  RESET_LINK_USED: 'This reset link was already used. Ask for a new link.',
  RESET_SESSION_INVALID: 'This password reset has expired or ended; ask for a new link.',
  SERVICE_UNAVAILABLE: 'The database does not answer.',
  SIGNING_KEY_EXTERNAL:
    'The signing key comes from JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE: replace it there.',
};

/** The `errors` of the examples of the codes that list broken rules. */
const EXAMPLE_ERRORS: Partial<Record<ErrorCodeName, FieldProblem[]>> = {
  // What every route with a body answers to a field it does not know.
  VALIDATION_FAILED: [
    {
      field: 'nickname',
      message: 'nickname is not an accepted field',
      rule: 'whitelistValidation',
    },
  ],
  PASSWORD_POLICY_VIOLATION: [
    {
      field: 'password',
      message: 'password must be at least 8 characters long',
      rule: 'minLength',
    },
  ],
};

/** One example of a problem answer, built by the exception filter's own function. */
export function problemExample({ code, status, detail }: DocumentedProblem): ExampleObject {
  const document = problemDocument(code, detail ?? EXAMPLE_DETAIL[code], EXAMPLE_ERRORS[code]);
  return { summary: document.title, value: { ...document, status: status ?? document.status } };
}
