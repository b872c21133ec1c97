import { Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AuthService, type SignIn } from '../auth/auth.service.js';
import { LoginDto, LoginTwoFactorDto } from '../auth/dto/auth.dto.js';
import { CHALLENGE_TTL_SECONDS, TokenService } from '../auth/token.service.js';
import { AppError } from '../common/errors/app-error.js';
import { ChangePasswordDto } from '../users/dto/me.dto.js';
import { UsersService } from '../users/users.service.js';
import type { FormRequest } from './page-base.js';
import { type PageErrors, pageErrors, statusOf, validateForm } from './page-errors.js';
import { type PageUser, PageSessions } from './page-session.service.js';

/** How the sign-in forms name their fields in an error. */
export const SIGN_IN_LABELS = {
  username: 'The username or email',
  password: 'The password',
  code: 'The code',
  currentPassword: 'The current password',
  newPassword: 'The new password',
};

/** A form the service refused: the words to show next to its fields, and the status. */
export interface Refused {
  errors: PageErrors;
  status: number;
}

/** Where a sign-in step leaves the browser. */
export type SignInStep =
  /** The password was right; the code is next (the challenge cookie is set). */
  | { next: 'two-factor' }
  /** Signed in: the page session and device cookies are set. */
  | { next: 'signed-in'; user: PageUser }
  /** Refused: show the same form again with these errors. */
  | ({ next: 'retry' } & Refused)
  /** The challenge is dead (used or expired): back to the password form, with these errors. */
  | ({ next: 'start-again' } & Refused);

/**
 * The sign-in steps every sign-in form shares (ours at /login, and an application's sign-in at
 * /interaction/:uid): the password, the second factor, and the change of a password. Each step
 * validates the form with the API's DTO, calls the API's service and sets the pages' cookies;
 * the controllers only choose the page that comes next. `challengePath` scopes the challenge
 * cookie to the sign-in it belongs to.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly sessions: PageSessions,
    private readonly auth: AuthService,
    private readonly tokens: TokenService,
    private readonly users: UsersService,
  ) {}

  async withPassword(
    request: FormRequest,
    reply: FastifyReply,
    ip: string,
    challengePath = '/login',
  ): Promise<Exclude<SignInStep, { next: 'start-again' }>> {
    try {
      const input = await validateForm(LoginDto, request.body, ['username', 'password']);
      const result = await this.auth.login(
        input.username,
        input.password,
        ip,
        this.sessions.deviceToken(request),
      );
      if ('twoFactorRequired' in result) {
        this.sessions.setChallenge(
          reply,
          result.challengeToken,
          CHALLENGE_TTL_SECONDS,
          challengePath,
        );
        return { next: 'two-factor' };
      }
      return { next: 'signed-in', user: this.start(reply, result) };
    } catch (error) {
      return { next: 'retry', ...refused(error, {}) };
    }
  }

  /** The code step, with the challenge the password step left (see @TwoFactorStep()). */
  async withCode(
    challengeToken: string,
    request: FormRequest,
    reply: FastifyReply,
    ip: string,
    challengePath = '/login',
  ): Promise<Exclude<SignInStep, { next: 'two-factor' }>> {
    try {
      const input = await validateForm(LoginTwoFactorDto, { ...request.body, challengeToken }, [
        'challengeToken',
        'code',
      ]);
      const pair = await this.auth.loginTwoFactor(
        challengeToken,
        input.code,
        ip,
        this.sessions.deviceToken(request),
      );
      this.sessions.clearChallenge(reply, challengePath);
      return { next: 'signed-in', user: this.start(reply, pair) };
    } catch (error) {
      const answer = refused(error, { INVALID_TOTP_CODE: 'code' });
      if (error instanceof AppError && error.code === 'CHALLENGE_INVALID') {
        this.sessions.clearChallenge(reply, challengePath);
        return { next: 'start-again', ...answer, status: 401 };
      }
      return { next: 'retry', ...answer };
    }
  }

  /** A signed-in user changes their password (a temporary one, or by choice); null when done. */
  async changePassword(user: PageUser, request: FormRequest, ip: string): Promise<Refused | null> {
    try {
      const input = await validateForm(ChangePasswordDto, request.body, [
        'currentPassword',
        'newPassword',
      ]);
      await this.users.changeOwnPassword(
        user.userId,
        user.sessionId,
        input.currentPassword,
        input.newPassword,
        ip,
      );
      return null;
    } catch (error) {
      return refused(error, { INVALID_CREDENTIALS: 'currentPassword' });
    }
  }

  /**
   * Puts the browser in the session a service just started (a sign-in, or a finished reset)
   * and remembers the device; answers the user as the pages know them.
   */
  start(reply: FastifyReply, signedIn: SignIn): PageUser {
    const claims = this.tokens.verifyAccessToken(signedIn.accessToken);
    if (!claims) {
      throw new Error('a freshly issued access token did not verify');
    }
    this.sessions.setDeviceToken(reply, signedIn.deviceToken);
    this.sessions.signIn(reply, {
      sessionId: claims.sid,
      userId: claims.sub,
      refreshToken: signedIn.refreshToken,
    });
    return {
      userId: claims.sub,
      sessionId: claims.sid,
      refreshToken: signedIn.refreshToken,
      username: claims.username,
      roles: claims.roles,
      disabled: false,
      mustChangePassword: false,
    };
  }
}

/** A service's refusal in words (anything that is not an AppError is rethrown: a 500 page). */
function refused(error: unknown, fieldFor: Record<string, string>): Refused {
  return { errors: pageErrors(error, fieldFor, SIGN_IN_LABELS), status: statusOf(error) };
}
