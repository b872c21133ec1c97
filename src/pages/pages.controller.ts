import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LoginDto, LoginTwoFactorDto } from '../auth/dto/auth.dto.js';
import { AuthService } from '../auth/auth.service.js';
import { CHALLENGE_TTL_SECONDS, TokenService } from '../auth/token.service.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { ResetRequestDto } from '../password-reset/dto/password-reset.dto.js';
import { PasswordResetService } from '../password-reset/password-reset.service.js';
import { field, type FormRequest, signIn } from './page-base.js';
import { pageErrors, statusOf, validateForm } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { PageSessions } from './page-session.service.js';
import { HostedPages } from './hosted-page.decorator.js';
import { PageSession } from './guards/page-session.decorator.js';

const NOTICES: Record<string, string> = {
  'signed-out': 'You are signed out.',
  'session-ended': 'Your session has ended. Sign in again.',
};

const LABELS = {
  username: 'The username or email',
  password: 'The password',
  code: 'The code',
  identifier: 'The username or email',
};

/** Sign-in, sign-out and "forgot your password?": thin handlers over the API's own services. */
@HostedPages()
@Controller()
export class PagesController {
  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly auth: AuthService,
    private readonly tokens: TokenService,
    private readonly resets: PasswordResetService,
  ) {}

  @Get()
  home(@Res() reply: FastifyReply): FastifyReply {
    return this.renderer.redirect(reply, '/account');
  }

  @Get('login')
  async loginForm(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    if (session.user) {
      return this.renderer.redirect(reply, '/account');
    }
    const done = (request.query as Record<string, string | undefined>).done ?? '';
    return this.renderer.send(reply, session, 'login', {
      title: 'Sign in',
      notice: NOTICES[done],
    });
  }

  @Post('login')
  async login(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const username = field(request, 'username');
    try {
      const input = await validateForm(LoginDto, request.body, ['username', 'password']);
      const result = await this.auth.login(
        input.username,
        input.password,
        ip,
        this.sessions.deviceToken(request),
      );
      if ('twoFactorRequired' in result) {
        this.sessions.setChallenge(reply, result.challengeToken, CHALLENGE_TTL_SECONDS);
        return this.renderer.redirect(reply, '/login/two-factor');
      }
      this.sessions.setDeviceToken(reply, result.deviceToken);
      signIn(this.sessions, this.tokens, reply, result);
      return this.renderer.redirect(reply, '/account');
    } catch (error) {
      return this.renderer.send(
        reply,
        session,
        'login',
        { title: 'Sign in', username, errors: pageErrors(error, {}, LABELS) },
        statusOf(error),
      );
    }
  }

  @Get('login/two-factor')
  async twoFactorForm(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    if (!this.sessions.challenge(request)) {
      return this.renderer.redirect(reply, '/login');
    }
    return this.renderer.send(reply, session, 'login-two-factor', {
      title: 'Two-step verification',
      recovery: (request.query as Record<string, unknown>).recovery === '1',
    });
  }

  @Post('login/two-factor')
  async twoFactor(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const challengeToken = this.sessions.challenge(request);
    if (!challengeToken) {
      return this.renderer.redirect(reply, '/login');
    }
    const recovery = field(request, 'recovery') === '1';
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
      this.sessions.clearChallenge(reply);
      this.sessions.setDeviceToken(reply, pair.deviceToken);
      signIn(this.sessions, this.tokens, reply, pair);
      return this.renderer.redirect(reply, '/account');
    } catch (error) {
      const errors = pageErrors(error, { INVALID_TOTP_CODE: 'code' }, LABELS);
      if (error instanceof Error && 'code' in error && error.code === 'CHALLENGE_INVALID') {
        this.sessions.clearChallenge(reply);
        return this.renderer.send(reply, session, 'login', { title: 'Sign in', errors }, 401);
      }
      return this.renderer.send(
        reply,
        session,
        'login-two-factor',
        { title: 'Two-step verification', recovery, errors },
        statusOf(error),
      );
    }
  }

  @Post('logout')
  async logout(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    if (session.user) {
      await this.auth.logout(session.user.refreshToken, ip);
    }
    this.sessions.signOut(reply);
    return this.renderer.redirect(reply, '/login?done=signed-out');
  }

  @Get('forgot-password')
  async forgotForm(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderer.send(reply, session, 'forgot-password', {
      title: 'Forgot your password?',
    });
  }

  @Post('forgot-password')
  async forgot(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const identifier = field(request, 'identifier');
    try {
      const input = await validateForm(ResetRequestDto, request.body, ['identifier']);
      const { message } = await this.resets.request(input.identifier, ip);
      return this.renderer.send(reply, session, 'forgot-password', {
        title: 'Check your mail',
        sent: message,
      });
    } catch (error) {
      return this.renderer.send(
        reply,
        session,
        'forgot-password',
        {
          title: 'Forgot your password?',
          identifier,
          errors: pageErrors(
            error,
            { USER_NOT_FOUND: 'identifier', NO_EMAIL_BOUND: 'identifier' },
            LABELS,
          ),
        },
        statusOf(error),
      );
    }
  }
}
