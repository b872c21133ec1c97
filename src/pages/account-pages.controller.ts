import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { AllowedWithTemporaryPassword } from '../common/decorators/allow-password-change.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { ChangeEmailDto } from '../users/dto/me.dto.js';
import { isLocale } from '../i18n/locales.js';
import {
  DisableTwoFactorDto,
  StartTwoFactorSetupDto,
  TwoFactorCodeDto,
} from '../users/dto/two-factor.dto.js';
import { EmailVerificationService } from '../users/email-verification.service.js';
import { UsersService } from '../users/users.service.js';
import { field, type FormRequest, groupsOf4 } from './page-base.js';
import { type PageErrors, pageErrors, statusOf, validateForm } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { PageSessions } from './page-session.service.js';
import { HostedPages } from './hosted-page.decorator.js';
import { PageSession, type SignedInSession } from './guards/page-session.decorator.js';
import { SignedInPage } from './guards/signed-in-page.guard.js';
import { SignInService } from './sign-in.service.js';

/** `?done=` of the home page: the notice it shows (`pages.notices.*`). */
const NOTICES = new Set([
  'password-reset',
  'password',
  'email-sent',
  'email-resent',
  'email-cancelled',
  'two-factor-off',
  'language',
]);

const LABELS = {
  email: 'The email address',
  currentPassword: 'The current password',
  code: 'The code',
  locale: 'The language',
};

/** The home page: profile, email, password, two-factor authentication, sign-out. */
@SignedInPage()
@HostedPages()
@Controller('account')
export class AccountPagesController {
  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly signIn: SignInService,
    private readonly users: UsersService,
    private readonly emails: EmailVerificationService,
    private readonly twoFactor: TwoFactorService,
  ) {}

  @Get()
  async home(
    @PageSession() session: SignedInSession,
    @Query('done') done: unknown,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderHome(
      reply,
      session,
      { fields: {} },
      200,
      typeof done === 'string' && NOTICES.has(done) ? `pages.notices.${done}` : undefined,
    );
  }

  @Get('password')
  @AllowedWithTemporaryPassword()
  async passwordForm(
    @PageSession() session: SignedInSession,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderPassword(reply, session, { fields: {} }, 200);
  }

  @Post('password')
  @AllowedWithTemporaryPassword()
  async changePassword(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const refused = await this.signIn.changePassword(session.user, request, ip);
    if (refused) {
      return this.renderPassword(reply, session, refused.errors, refused.status);
    }
    return this.renderer.redirect(reply, '/account?done=password');
  }

  @Post('email')
  async changeEmail(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      const input = await validateForm(ChangeEmailDto, request.body, ['email', 'currentPassword']);
      await this.emails.requestChange(session.user.userId, input.email, input.currentPassword, ip);
      return this.renderer.redirect(reply, '/account?done=email-sent');
    } catch (error) {
      const errors = pageErrors(
        error,
        { INVALID_CREDENTIALS: 'currentPassword', EMAIL_TAKEN: 'email', EMAIL_UNCHANGED: 'email' },
        LABELS,
      );
      return this.renderHome(reply, session, errors, statusOf(error), undefined, {
        form: 'email',
        email: field(request, 'email'),
      });
    }
  }

  /** A new link for the address waiting for confirmation (no password: the address is known). */
  @Post('email/resend')
  async resendEmailLink(
    @PageSession() session: SignedInSession,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      await this.emails.resend(session.user.userId, ip);
      return this.renderer.redirect(reply, '/account?done=email-resent');
    } catch (error) {
      return this.renderHome(reply, session, pageErrors(error, {}, LABELS), statusOf(error));
    }
  }

  @Post('email/cancel')
  async cancelEmailChange(
    @PageSession() session: SignedInSession,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    await this.emails.cancel(session.user.userId, ip);
    return this.renderer.redirect(reply, '/account?done=email-cancelled');
  }

  @Post('two-factor/setup')
  async startTwoFactor(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      const input = await validateForm(StartTwoFactorSetupDto, request.body, ['currentPassword']);
      const provisioning = await this.users.startTwoFactorSetup(
        session.user.userId,
        input.currentPassword,
        ip,
      );
      return this.renderSetup(reply, session, provisioning.secret, { fields: {} }, 200);
    } catch (error) {
      const errors = pageErrors(error, { INVALID_CREDENTIALS: 'currentPassword' }, LABELS);
      return this.renderHome(reply, session, errors, statusOf(error), undefined, {
        form: 'setup',
      });
    }
  }

  @Post('two-factor/enable')
  async enableTwoFactor(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const pending = this.sessions.unseal(
      field(request, 'pending'),
      `account:${session.user.userId}`,
    );
    try {
      const input = await validateForm(TwoFactorCodeDto, request.body, ['code']);
      const recoveryCodes = await this.users.confirmTwoFactorSetup(
        session.user.userId,
        input.code,
        ip,
      );
      return this.renderer.send(reply, session, 'recovery-codes', { recoveryCodes });
    } catch (error) {
      const errors = pageErrors(error, { INVALID_TOTP_CODE: 'code' }, LABELS);
      if (!pending) {
        return this.renderHome(reply, session, errors, statusOf(error));
      }
      return this.renderSetup(reply, session, pending, errors, statusOf(error));
    }
  }

  @Post('two-factor/disable')
  async disableTwoFactor(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      const input = await validateForm(DisableTwoFactorDto, request.body, [
        'currentPassword',
        'code',
      ]);
      await this.users.disableTwoFactor(session.user.userId, input.currentPassword, input.code, ip);
      return this.renderer.redirect(reply, '/account?done=two-factor-off');
    } catch (error) {
      const errors = pageErrors(
        error,
        { INVALID_CREDENTIALS: 'currentPassword', INVALID_TOTP_CODE: 'code' },
        LABELS,
      );
      return this.renderHome(reply, session, errors, statusOf(error), undefined, {
        form: 'disable',
      });
    }
  }

  /**
   * The language of the user's pages and mails (`''`: as the browser says). The page cookie
   * follows, so this browser shows the choice at once (a cookie outranks the user's locale).
   */
  @Post('language')
  async setLanguage(
    @PageSession() session: SignedInSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const chosen = field(request, 'locale');
    if (chosen !== '' && !isLocale(chosen)) {
      const error = new AppError('VALIDATION_FAILED', 'Some fields are not valid; see errors.', {
        errors: [{ field: 'locale', rule: 'isIn', message: 'locale is not a supported language' }],
      });
      return this.renderHome(reply, session, pageErrors(error, {}, LABELS), statusOf(error));
    }
    const locale = chosen === '' ? null : chosen;
    await this.users.setLocale(session.user.userId, locale);
    this.sessions.setLanguage(reply, locale);
    return this.renderer.redirect(reply, '/account?done=language');
  }

  private async renderHome(
    reply: FastifyReply,
    session: SignedInSession,
    errors: PageErrors,
    status: number,
    noticeKey?: string,
    extra: Record<string, unknown> = {},
  ): Promise<FastifyReply> {
    const profile = await this.users.get(session.user.userId).catch((error: unknown) => {
      if (error instanceof AppError) {
        return null;
      }
      throw error;
    });
    if (!profile) {
      this.sessions.signOut(reply);
      return this.renderer.redirect(reply, '/login?done=session-ended');
    }
    return this.renderer.send(
      reply,
      session,
      'account',
      {
        noticeKey,
        errors,
        profile: {
          username: profile.username,
          email: profile.email,
          emailVerified: profile.emailVerified,
          pendingEmail: profile.pendingEmail,
          twoFactorEnabled: profile.twoFactorEnabled,
          roles: profile.roles.join(', '),
          passwordChangedAt: profile.passwordChangedAt,
          locale: profile.locale,
        },
        ...extra,
      },
      status,
    );
  }

  private renderPassword(
    reply: FastifyReply,
    session: SignedInSession,
    errors: PageErrors,
    status: number,
  ): Promise<FastifyReply> {
    return this.renderer.send(
      reply,
      session,
      'account-password',
      {
        temporary: session.user.mustChangePassword,
        errors,
      },
      status,
    );
  }

  private async renderSetup(
    reply: FastifyReply,
    session: SignedInSession,
    secret: string,
    errors: PageErrors,
    status: number,
  ): Promise<FastifyReply> {
    const provisioning = await this.twoFactor.provision(session.user.username, secret);
    return this.renderer.send(
      reply,
      session,
      'two-factor-setup',
      {
        qrCodeDataUrl: provisioning.qrCodeDataUrl,
        secretGroups: groupsOf4(secret),
        pending: this.sessions.seal(secret, `account:${session.user.userId}`),
        errors,
      },
      status,
    );
  }
}
