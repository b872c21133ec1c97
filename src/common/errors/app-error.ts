import { HttpStatus } from '@nestjs/common';

/** One broken rule of a request: which field, what is wrong, and the rule's stable name. */
export interface FieldProblem {
  field: string;
  message: string;
  rule?: string;
}

/**
 * The stable error codes clients may switch on. Every error response carries one.
 * Adding a code is fine; renaming or removing one breaks the public contract.
 */
export const ErrorCode = {
  VALIDATION_FAILED: { status: HttpStatus.BAD_REQUEST, title: 'The request is not valid' },
  /** A body that is not JSON or nests too deep, or a URL that cannot be decoded. */
  MALFORMED_REQUEST: {
    status: HttpStatus.BAD_REQUEST,
    title: 'The request could not be read',
  },
  URI_TOO_LONG: { status: HttpStatus.URI_TOO_LONG, title: 'A part of the URL is too long' },
  HEADERS_TOO_LARGE: {
    // 431 is not in HttpStatus.
    status: 431,
    title: 'The request headers are too large',
  },
  REQUEST_TIMEOUT: {
    status: HttpStatus.REQUEST_TIMEOUT,
    title: 'The request did not arrive in time',
  },
  PAYLOAD_TOO_LARGE: {
    status: HttpStatus.PAYLOAD_TOO_LARGE,
    title: 'The request body is too large',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    title: 'Send the body as application/json',
  },
  NOT_FOUND: { status: HttpStatus.NOT_FOUND, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: HttpStatus.METHOD_NOT_ALLOWED, title: 'Method not allowed' },
  UNAUTHORIZED: { status: HttpStatus.UNAUTHORIZED, title: 'Authentication required' },
  FORBIDDEN: { status: HttpStatus.FORBIDDEN, title: 'Not allowed' },
  INVALID_CREDENTIALS: { status: HttpStatus.UNAUTHORIZED, title: 'Invalid credentials' },
  ACCOUNT_DISABLED: { status: HttpStatus.FORBIDDEN, title: 'The account is disabled' },
  TOO_MANY_ATTEMPTS: { status: HttpStatus.TOO_MANY_REQUESTS, title: 'Too many attempts' },
  INVALID_REFRESH_TOKEN: {
    status: HttpStatus.UNAUTHORIZED,
    title: 'The refresh token is not valid',
  },
  PASSWORD_EXPIRED: {
    status: HttpStatus.UNAUTHORIZED,
    title: 'The temporary password has expired',
  },
  PASSWORD_CHANGE_REQUIRED: {
    status: HttpStatus.FORBIDDEN,
    title: 'The password must be changed first',
  },
  PASSWORD_POLICY_VIOLATION: {
    status: HttpStatus.BAD_REQUEST,
    title: 'The password does not meet the policy',
  },
  USERNAME_TAKEN: { status: HttpStatus.CONFLICT, title: 'The username is taken' },
  EMAIL_TAKEN: { status: HttpStatus.CONFLICT, title: 'The email address is taken' },
  /** The new address is already the account's verified email: nothing to confirm. */
  EMAIL_UNCHANGED: {
    status: HttpStatus.CONFLICT,
    title: 'This is already the verified email address',
  },
  NO_PENDING_EMAIL: {
    status: HttpStatus.CONFLICT,
    title: 'No email address is waiting for confirmation',
  },
  EMAIL_VERIFICATION_INVALID: {
    status: HttpStatus.BAD_REQUEST,
    title: 'The confirmation link is not valid',
  },
  EMAIL_VERIFICATION_EXPIRED: {
    status: HttpStatus.GONE,
    title: 'The confirmation link has expired',
  },
  EMAIL_VERIFICATION_USED: {
    status: HttpStatus.GONE,
    title: 'The confirmation link was already used',
  },
  USER_NOT_FOUND: { status: HttpStatus.NOT_FOUND, title: 'No such user' },
  SELF_LOCKOUT: { status: HttpStatus.CONFLICT, title: 'An admin cannot lock themselves out' },
  SIGNING_KEY_EXTERNAL: {
    status: HttpStatus.CONFLICT,
    title: 'The signing key is managed outside Portcullis',
  },
  CHALLENGE_INVALID: {
    status: HttpStatus.UNAUTHORIZED,
    title: 'The sign-in challenge is not valid',
  },
  INVALID_TOTP_CODE: { status: HttpStatus.BAD_REQUEST, title: 'The code is not valid' },
  TWO_FACTOR_ALREADY_CONFIGURED: {
    status: HttpStatus.CONFLICT,
    title: 'Two-factor authentication is already configured',
  },
  TWO_FACTOR_SETUP_REQUIRED: {
    status: HttpStatus.CONFLICT,
    title: 'Start the authenticator setup first',
  },
  TWO_FACTOR_NOT_ENABLED: {
    status: HttpStatus.CONFLICT,
    title: 'Two-factor authentication is not enabled',
  },
  TWO_FACTOR_REQUIRED: {
    status: HttpStatus.FORBIDDEN,
    title: 'Confirm with your authenticator first',
  },
  NO_EMAIL_BOUND: {
    status: HttpStatus.UNPROCESSABLE_ENTITY,
    title: 'No email is bound to this account',
  },
  RESET_LINK_INVALID: { status: HttpStatus.BAD_REQUEST, title: 'The reset link is not valid' },
  RESET_LINK_EXPIRED: { status: HttpStatus.GONE, title: 'The reset link has expired' },
  RESET_LINK_USED: { status: HttpStatus.GONE, title: 'The reset link was already used' },
  RESET_SESSION_INVALID: {
    status: HttpStatus.UNAUTHORIZED,
    title: 'The password reset session is not valid',
  },
  CLIENT_NOT_FOUND: { status: HttpStatus.NOT_FOUND, title: 'No such client' },
  CLIENT_IS_PUBLIC: { status: HttpStatus.CONFLICT, title: 'A public client has no secret' },
  SERVICE_UNAVAILABLE: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    title: 'The service is not ready',
  },
  INTERNAL_ERROR: { status: HttpStatus.INTERNAL_SERVER_ERROR, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCodeName = keyof typeof ErrorCode;

export interface AppErrorOptions {
  errors?: FieldProblem[];
  headers?: Record<string, string>;
  /** Where the contract gives one code two statuses (INVALID_TOTP_CODE is 401 at sign-in). */
  status?: number;
}

/** A domain error: services throw it; the global filter renders it as problem+json. */
export class AppError extends Error {
  readonly status: number;
  readonly title: string;

  readonly errors?: FieldProblem[];
  /** Extra response headers, e.g. Retry-After. */
  readonly headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCodeName,
    readonly detail?: string,
    options: AppErrorOptions = {},
  ) {
    super(detail ?? ErrorCode[code].title);
    this.name = 'AppError';
    this.status = options.status ?? ErrorCode[code].status;
    this.title = ErrorCode[code].title;
    this.errors = options.errors;
    this.headers = options.headers;
  }
}
