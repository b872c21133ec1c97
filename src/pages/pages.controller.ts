import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import type { Settings } from '../config/settings.js';
import { AuthService } from '../auth/auth.service.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { ResetRequestDto } from '../password-reset/dto/password-reset.dto.js';
import { PasswordResetService } from '../password-reset/password-reset.service.js';
import { field, type FormRequest } from './page-base.js';
import { pageErrors, statusOf, validateForm } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { PageSessions } from './page-session.service.js';
import { HostedPages } from './hosted-page.decorator.js';
import { safeReturnPath } from './return-path.js';
import { PageSession } from './guards/page-session.decorator.js';
import { SignInChallenge, TwoFactorStep } from './guards/two-factor-step.guard.js';
import { SignInService } from './sign-in.service.js';

/** `?done=` of the sign-in page: the notice it shows (`pages.notices.*`). */
const NOTICES = new Set(['signed-out', 'session-ended']);

const LABELS = { identifier: 'The username or email' };

/** Sign-in, sign-out and "forgot your password?": thin handlers over the API's own services. */
@HostedPages()
@Controller()
export class PagesController {
  /** How the forgot-password answer is worded (explicit or generic) and the link's lifetime. */
  private readonly reset: Settings['reset'];

  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly signIn: SignInService,
    private readonly auth: AuthService,
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
    const query = request.query as Record<string, string | undefined>;
    const next = safeReturnPath(query.next);
    if (session.user) {
      return this.renderer.redirect(reply, next ?? '/account');
    }
    const done = query.done ?? '';
    return this.renderer.send(reply, session, 'login', {
      noticeKey: NOTICES.has(done) ? `pages.notices.${done}` : undefined,
      next,
    });
  }

  @Post('login')
  async login(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    // Where the browser was going when it was sent here (a page of ours, or nowhere).
    const next = safeReturnPath(field(request, 'next'));
    const step = await this.signIn.withPassword(request, reply, ip);
    switch (step.next) {
      case 'two-factor':
        return this.renderer.redirect(
          reply,
          next ? `/login/two-factor?next=${encodeURIComponent(next)}` : '/login/two-factor',
        );
      case 'signed-in':
        return this.renderer.redirect(reply, next ?? '/account');
      case 'retry':
        return this.renderer.send(
          reply,
          session,
          'login',
          { username: field(request, 'username'), next, errors: step.errors },
          step.status,
        );
    }
  }

  @Get('login/two-factor')
  @TwoFactorStep()
  async twoFactorForm(
    @PageSession() session: PageSession,
    @Query('recovery') recovery: unknown,
    @Query('next') nextParam: unknown,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const next = safeReturnPath(nextParam);
    return this.renderer.send(reply, session, 'login-two-factor', {
      recovery: recovery === '1',
      next,
      nextQuery: next ? encodeURIComponent(next) : null,
    });
  }

  @Post('login/two-factor')
  @TwoFactorStep()
  async twoFactor(
    @PageSession() session: PageSession,
    @SignInChallenge() challenge: string,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const next = safeReturnPath(field(request, 'next'));
    const step = await this.signIn.withCode(challenge, request, reply, ip);
    switch (step.next) {
      case 'signed-in':
        return this.renderer.redirect(reply, next ?? '/account');
      case 'start-again':
        return this.renderer.send(
          reply,
          session,
          'login',
          { next, errors: step.errors },
          step.status,
        );
      case 'retry':
        return this.renderer.send(
          reply,
          session,
          'login-two-factor',
          {
            recovery: field(request, 'recovery') === '1',
            next,
            nextQuery: next ? encodeURIComponent(next) : null,
            errors: step.errors,
          },
          step.status,
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
