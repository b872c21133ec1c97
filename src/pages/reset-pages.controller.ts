import { Controller, Get, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { TokenService } from '../auth/token.service.js';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { Public } from '../common/decorators/public.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { PasswordPolicyService } from '../password-policy/password-policy.service.js';
import {
  NewPasswordDto,
  OpenResetDto,
  ResetCodeDto,
} from '../password-reset/dto/password-reset.dto.js';
import {
  PasswordResetService,
  type ResetContext,
} from '../password-reset/password-reset.service.js';
import { TwoFactorService } from '../two-factor/two-factor.service.js';
import { checkedSession, field, type FormRequest, groupsOf4, signIn } from './page-base.js';
import { type PageErrors, pageErrors, validateForm } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { type PageSession, PageSessions } from './page-session.service.js';
import { statusOf } from './pages.controller.js';
import { PagesExceptionFilter } from './pages-exception.filter.js';

const LINK_PROBLEMS: Record<string, { heading: string; title: string }> = {
  RESET_LINK_EXPIRED: { title: 'Link expired', heading: 'This reset link has expired' },
  RESET_LINK_USED: { title: 'Link already used', heading: 'This reset link was already used' },
  RESET_LINK_INVALID: { title: 'Link not valid', heading: 'This reset link is not valid' },
  RESET_SESSION_INVALID: {
    title: 'Reset ended',
    heading: 'This password reset has expired or ended',
  },
};

const LABELS = { code: 'The code', newPassword: 'The new password', token: 'The link' };

/**
 * The emailed link's pages: Continue (GET never uses the link up), the authenticator step, the
 * new password, then the home page signed in. The reset token lives in an HttpOnly cookie
 * scoped to /reset-password; the flow's order is the service's (authorizeStep).
 */
@Public()
@ApiExcludeController()
@UseFilters(PagesExceptionFilter)
@Controller('reset-password')
export class ResetPagesController {
  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly resets: PasswordResetService,
    private readonly twoFactor: TwoFactorService,
    private readonly policy: PasswordPolicyService,
    private readonly tokens: TokenService,
  ) {}

  @Get()
  async open(@Req() request: FormRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const session = await this.sessions.load(request, reply);
    const token = (request.query as Record<string, unknown>).token;
    if (typeof token !== 'string' || token === '' || token.length > 256) {
      return this.linkProblem(reply, session, new AppError('RESET_LINK_INVALID', linkHelp()));
    }
    return this.renderer.send(reply, session, 'reset-open', {
      title: 'Reset your password',
      token,
    });
  }

  @Post()
  async start(
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const session = await checkedSession(this.sessions, this.renderer, request, reply);
    if (!session) {
      return reply;
    }
    try {
      const input = await validateForm(OpenResetDto, request.body, ['token']);
      const opened = await this.resets.openLink(input.token, ip);
      this.sessions.setResetToken(reply, opened.resetToken, opened.expiresIn);
      return this.renderer.redirect(reply, '/reset-password/two-factor');
    } catch (error) {
      return this.linkProblem(reply, session, error);
    }
  }

  @Get('two-factor')
  async twoFactorStep(
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const session = await this.sessions.load(request, reply);
    const reset = await this.step(request, 'two-factor');
    if (reset instanceof AppError) {
      return this.linkProblem(reply, session, reset);
    }
    const recovery = (request.query as Record<string, unknown>).recovery === '1';
    return this.renderTwoFactor(reply, session, reset, null, recovery, { fields: {} }, 200);
  }

  @Post('two-factor')
  async verifyTwoFactor(
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const session = await checkedSession(this.sessions, this.renderer, request, reply);
    if (!session) {
      return reply;
    }
    const reset = await this.step(request, 'two-factor');
    if (reset instanceof AppError) {
      return this.linkProblem(reply, session, reset);
    }
    const pending = this.sessions.unseal(field(request, 'pending'), `reset:${reset.session.id}`);
    try {
      const input = await validateForm(ResetCodeDto, request.body, ['code']);
      const result = await this.resets.twoFactorVerify(reset, input.code, ip);
      if (!result.recoveryCodes) {
        return this.renderer.redirect(reply, '/reset-password/password');
      }
      return this.renderPassword(reply, session, { fields: {} }, result.recoveryCodes, 200);
    } catch (error) {
      if (error instanceof AppError && error.code === 'RESET_SESSION_INVALID') {
        return this.linkProblem(reply, session, error);
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
  async passwordStep(
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const session = await this.sessions.load(request, reply);
    const reset = await this.step(request, 'password');
    if (reset instanceof AppError) {
      return reset.code === 'TWO_FACTOR_REQUIRED'
        ? this.renderer.redirect(reply, '/reset-password/two-factor')
        : this.linkProblem(reply, session, reset);
    }
    return this.renderPassword(reply, session, { fields: {} }, null, 200);
  }

  @Post('password')
  async complete(
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const session = await checkedSession(this.sessions, this.renderer, request, reply);
    if (!session) {
      return reply;
    }
    const reset = await this.step(request, 'password');
    if (reset instanceof AppError) {
      return reset.code === 'TWO_FACTOR_REQUIRED'
        ? this.renderer.redirect(reply, '/reset-password/two-factor')
        : this.linkProblem(reply, session, reset);
    }
    try {
      const input = await validateForm(NewPasswordDto, request.body, ['newPassword']);
      const pair = await this.resets.complete(reset, input.newPassword, ip);
      this.sessions.clearResetToken(reply);
      this.sessions.setDeviceToken(reply, pair.deviceToken);
      signIn(this.sessions, this.tokens, reply, pair);
      // Started from an application's sign-in: back to its authorization, now signed in.
      const back = this.sessions.takeReturnTo(request, reply);
      return this.renderer.redirect(reply, back ?? '/account?done=password-reset');
    } catch (error) {
      if (error instanceof AppError && error.code === 'RESET_SESSION_INVALID') {
        return this.linkProblem(reply, session, error);
      }
      return this.renderPassword(
        reply,
        session,
        pageErrors(error, {}, LABELS),
        null,
        statusOf(error),
      );
    }
  }

  /** The service's decision for this step, as a value: the reset context or its refusal. */
  private async step(
    request: FormRequest,
    step: 'two-factor' | 'password',
  ): Promise<ResetContext | AppError> {
    try {
      return await this.resets.authorizeStep(this.sessions.resetToken(request), step);
    } catch (error) {
      if (error instanceof AppError) {
        return error;
      }
      throw error;
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
    if (await this.twoFactor.isEnabled(reset.user.id)) {
      return this.renderer.send(
        reply,
        session,
        'reset-two-factor',
        { title: 'Confirm it is you', enrol: false, recovery, errors },
        status,
      );
    }
    // A new authenticator: shown again after a wrong code; a first visit makes a new one.
    const provisioning = pendingSecret
      ? await this.twoFactor.provision(reset.user.username, pendingSecret)
      : await this.resets.twoFactorSetup(reset);
    return this.renderer.send(
      reply,
      session,
      'reset-two-factor',
      {
        title: 'Set up your authenticator',
        enrol: true,
        qrCodeDataUrl: provisioning.qrCodeDataUrl,
        secretGroups: groupsOf4(provisioning.secret),
        pending: this.sessions.seal(provisioning.secret, `reset:${reset.session.id}`),
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
    return this.renderer.send(
      reply,
      session,
      'reset-password',
      { title: 'Choose a new password', rules: this.rules(errors), recoveryCodes, errors },
      status,
    );
  }

  /** The policy's rules as the policy service describes them; broken ones marked. */
  private rules(errors: PageErrors): { description: string; broken: boolean }[] {
    const broken = new Set(errors.rules ?? []);
    return this.policy
      .describe()
      .rules.map((r) => ({ description: r.description, broken: broken.has(r.rule) }));
  }

  private linkProblem(
    reply: FastifyReply,
    session: PageSession,
    error: unknown,
  ): Promise<FastifyReply> {
    const errors = pageErrors(error, {}, LABELS);
    const code = error instanceof AppError ? error.code : 'RESET_LINK_INVALID';
    const problem = LINK_PROBLEMS[code] ?? LINK_PROBLEMS.RESET_LINK_INVALID;
    if (code === 'RESET_SESSION_INVALID') {
      this.sessions.clearResetToken(reply);
    }
    return this.renderer.send(
      reply,
      session,
      'reset-link-problem',
      {
        title: problem.title,
        heading: problem.heading,
        message: errors.form ?? Object.values(errors.fields).flat().join(' '),
      },
      statusOf(error),
    );
  }
}

function linkHelp(): string {
  return 'The address has no reset token. Open the link from the mail exactly as it was sent, or ask for a new one.';
}
