import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import type { Settings } from '../config/settings.js';
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

/** `?done=` of the sign-in page: the notice it shows (`pages.notices.*`). */
const NOTICES = new Set(['signed-out', 'session-ended']);

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
  /** How the forgot-password answer is worded (explicit or generic) and the link's lifetime. */
  private readonly reset: Settings['reset'];

  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly auth: AuthService,
    private readonly tokens: TokenService,
    private readonly resets: PasswordResetService,
    config: ConfigService<Settings, true>,
  ) {
    this.reset = config.get('reset', { infer: true });
  }

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
      noticeKey: NOTICES.has(done) ? `pages.notices.${done}` : undefined,
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
        { username, errors: pageErrors(error, {}, LABELS) },
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
        return this.renderer.send(reply, session, 'login', { errors }, 401);
      }
      return this.renderer.send(
        reply,
        session,
        'login-two-factor',
        { recovery, errors },
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
    return this.renderer.send(reply, session, 'forgot-password', {});
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
      await this.resets.request(input.identifier, ip);
      // The API's `message`, in the page's language.
      const locale = this.renderer.localeOf(reply, session);
      return this.renderer.send(reply, session, 'forgot-password', {
        titleKey: 'pages.forgot-password.sentTitle',
        sent: this.renderer.i18n.t(
          locale,
          this.reset.disclosure === 'generic'
            ? 'pages.forgot-password.sentGeneric'
            : 'pages.forgot-password.sentExplicit',
          { validFor: this.renderer.i18n.duration(locale, this.reset.linkTtl) },
        ),
      });
    } catch (error) {
      return this.renderer.send(
        reply,
        session,
        'forgot-password',
        {
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
