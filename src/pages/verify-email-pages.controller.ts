import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { VerifyEmailDto } from '../users/dto/me.dto.js';
import { EmailVerificationService } from '../users/email-verification.service.js';
import { type FormRequest } from './page-base.js';
import { pageErrors, statusOf, validateForm } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { PageSessions } from './page-session.service.js';
import { HostedPages } from './hosted-page.decorator.js';
import { PageSession } from './guards/page-session.decorator.js';

const LINK_PROBLEMS: Record<string, { heading: string; title: string }> = {
  EMAIL_VERIFICATION_EXPIRED: {
    title: 'Link expired',
    heading: 'This confirmation link has expired',
  },
  EMAIL_VERIFICATION_USED: {
    title: 'Link already used',
    heading: 'This confirmation link was already used',
  },
  EMAIL_VERIFICATION_INVALID: {
    title: 'Link not valid',
    heading: 'This confirmation link is not valid',
  },
  EMAIL_TAKEN: {
    title: 'Address taken',
    heading: 'This address belongs to another account',
  },
  TOO_MANY_ATTEMPTS: { title: 'Please wait', heading: 'Too many attempts' },
};

/**
 * The page of the mailed confirmation link: a button (opening the page never uses the link up,
 * since mail scanners open links), then the outcome. Anyone holding the link may use it: the
 * token is the proof, as in the API.
 */
@HostedPages()
@Controller('verify-email')
export class VerifyEmailPagesController {
  constructor(
    private readonly sessions: PageSessions,
    private readonly renderer: PageRenderer,
    private readonly emails: EmailVerificationService,
  ) {}

  @Get()
  async open(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const token = (request.query as Record<string, unknown>).token;
    if (typeof token !== 'string' || token === '' || token.length > 256) {
      return this.problem(
        reply,
        session,
        new AppError(
          'EMAIL_VERIFICATION_INVALID',
          'The address has no confirmation token. Open the link from the mail exactly as it was sent.',
        ),
      );
    }
    return this.renderer.send(reply, session, 'verify-email', {
      title: 'Confirm your email address',
      token,
    });
  }

  @Post()
  async confirm(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    try {
      const input = await validateForm(VerifyEmailDto, request.body, ['token']);
      const user = await this.emails.verify(input.token, ip);
      return await this.renderer.send(reply, session, 'verify-email-done', {
        title: 'Email address confirmed',
        username: user.username,
        email: user.email,
      });
    } catch (error) {
      return this.problem(reply, session, error);
    }
  }

  private problem(
    reply: FastifyReply,
    session: PageSession,
    error: unknown,
  ): Promise<FastifyReply> {
    const errors = pageErrors(error, {}, { token: 'The link' });
    const code = error instanceof AppError ? error.code : 'EMAIL_VERIFICATION_INVALID';
    const problem = LINK_PROBLEMS[code] ?? LINK_PROBLEMS.EMAIL_VERIFICATION_INVALID;
    return this.renderer.send(
      reply,
      session,
      'error',
      {
        title: problem.title,
        heading: problem.heading,
        message: errors.form ?? Object.values(errors.fields).flat().join(' '),
      },
      statusOf(error),
    );
  }
}
