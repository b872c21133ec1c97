import { Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import {
  NewPasswordDto,
  OpenResetDto,
  ResetCodeDto,
} from '../password-reset/dto/password-reset.dto.js';
import { CurrentReset } from '../password-reset/guards/reset-context.decorator.js';
import { ResetStep } from '../password-reset/guards/reset-step.guard.js';
import {
  PasswordResetService,
  type ResetContext,
} from '../password-reset/password-reset.service.js';
import { PageSession } from './guards/page-session.decorator.js';
import { HostedPages } from './hosted-page.decorator.js';
import { field, type FormRequest, groupsOf4 } from './page-base.js';
import { type PageErrors, pageErrors, statusOf, validateForm } from './page-errors.js';
import { ResetLinkProblem } from './page-exceptions.js';
import { PageRenderer } from './page-renderer.js';
import { PageSessions } from './page-session.service.js';
import { isResetLinkProblem } from './pages-exception.filter.js';
import { SignInService } from './sign-in.service.js';

const LABELS = { code: 'The code', newPassword: 'The new password', token: 'The link' };

/**
 * The emailed link's pages: Continue (GET never uses the link up), the authenticator step, the
 * new password, then the home page signed in. The reset token lives in an HttpOnly cookie
 * scoped to /reset-password; the flow's order is @ResetStep's, as in the API. A dead link or
 * session, or a skipped step, is answered by PagesExceptionFilter.
 */
@HostedPages()
@Controller('reset-password')
export class ResetPagesController {
  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly resets: PasswordResetService,
    private readonly signIn: SignInService,
  ) {}

  @Get()
  open(
    @PageSession() session: PageSession,
    @Query('token') token: unknown,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    if (typeof token !== 'string' || token === '' || token.length > 256) {
      throw new AppError(
        'RESET_LINK_INVALID',
        'The address has no reset token. Open the link from the mail exactly as it was sent, or ask for a new one.',
      );
    }
    return this.renderer.send(reply, session, 'reset-open', { token });
  }

  @Post()
  async start(
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      const input = await validateForm(OpenResetDto, request.body, ['token']);
      const opened = await this.resets.openLink(input.token, ip);
      this.sessions.setResetToken(reply, opened.resetToken, opened.expiresIn);
      return this.renderer.redirect(reply, '/reset-password/two-factor');
    } catch (error) {
      throw new ResetLinkProblem(error);
    }
  }

  @Get('two-factor')
  @ResetStep('two-factor', 'page-cookie')
  twoFactorStep(
    @PageSession() session: PageSession,
    @CurrentReset() reset: ResetContext,
    @Query('recovery') recovery: unknown,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderTwoFactor(reply, session, reset, null, recovery === '1', { fields: {} }, 200);
  }

  @Post('two-factor')
  @ResetStep('two-factor', 'page-cookie')
  async verifyTwoFactor(
    @PageSession() session: PageSession,
    @CurrentReset() reset: ResetContext,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const pending = this.sessions.unseal(field(request, 'pending'), `reset:${reset.session.id}`);
    try {
      const input = await validateForm(ResetCodeDto, request.body, ['code']);
      const result = await this.resets.twoFactorVerify(reset, input.code, ip);
      if (!result.recoveryCodes) {
        return this.renderer.redirect(reply, '/reset-password/password');
      }
      return await this.renderPassword(reply, session, { fields: {} }, result.recoveryCodes, 200);
    } catch (error) {
      if (isResetLinkProblem(error)) {
        throw error;
      }
      const errors = pageErrors(error, { INVALID_TOTP_CODE: 'code' }, LABELS);
      const recovery = field(request, 'recovery') === '1';
      return this.renderTwoFactor(
        reply,
        session,
        reset,
        pending,
        recovery,
        errors,
        statusOf(error),
      );
    }
  }

  @Get('password')
  @ResetStep('password', 'page-cookie')
  passwordStep(
    @PageSession() session: PageSession,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return this.renderPassword(reply, session, { fields: {} }, null, 200);
  }

  @Post('password')
  @ResetStep('password', 'page-cookie')
  async complete(
    @PageSession() session: PageSession,
    @CurrentReset() reset: ResetContext,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      const input = await validateForm(NewPasswordDto, request.body, ['newPassword']);
      const pair = await this.resets.complete(reset, input.newPassword, ip);
      this.sessions.clearResetToken(reply);
      this.signIn.start(reply, pair);
      // Started from an application's sign-in: back to its authorization, now signed in.
      const back = this.sessions.takeReturnTo(request, reply);
      return this.renderer.redirect(reply, back ?? '/account?done=password-reset');
    } catch (error) {
      if (isResetLinkProblem(error)) {
        throw error;
      }
      const errors = pageErrors(error, {}, LABELS);
      return this.renderPassword(reply, session, errors, null, statusOf(error));
    }
  }

  private async renderTwoFactor(
    reply: FastifyReply,
    session: PageSession,
    reset: ResetContext,
    pendingSecret: string | null,
    recovery: boolean,
    errors: PageErrors,
    status: number,
  ): Promise<FastifyReply> {
    const challenge = await this.resets.twoFactorChallenge(reset, pendingSecret);
    if (!challenge.enrol) {
      return this.renderer.send(
        reply,
        session,
        'reset-two-factor',
        { enrol: false, recovery, errors },
        status,
      );
    }
    return this.renderer.send(
      reply,
      session,
      'reset-two-factor',
      {
        titleKey: 'pages.reset-two-factor.enrolTitle',
        enrol: true,
        qrCodeDataUrl: challenge.qrCodeDataUrl,
        secretGroups: groupsOf4(challenge.secret),
        pending: this.sessions.seal(challenge.secret, `reset:${reset.session.id}`),
        username: reset.user.username,
        errors,
      },
      status,
    );
  }

  private renderPassword(
    reply: FastifyReply,
    session: PageSession,
    errors: PageErrors,
    recoveryCodes: string[] | null,
    status: number,
  ): Promise<FastifyReply> {
    const rules = this.renderer.policyRules(this.renderer.localeOf(reply, session), errors.rules);
    return this.renderer.send(
      reply,
      session,
      'reset-password',
      { rules, recoveryCodes, errors },
      status,
    );
  }
}
