import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ClientIp } from '../common/decorators/client-ip.decorator.js';
import { AppError } from '../common/errors/app-error.js';
import { VerifyEmailDto } from '../users/dto/me.dto.js';
import { EmailVerificationService } from '../users/email-verification.service.js';
import { type FormRequest } from './page-base.js';
import { validateForm } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { HostedPages } from './hosted-page.decorator.js';
import { PageSession } from './guards/page-session.decorator.js';

/**
 * The page of the mailed confirmation link: a button (opening the page never uses the link up,
 * since mail scanners open links), then the outcome. Anyone holding the link may use it: the
 * token is the proof, as in the API. Refusals (expired, used, taken…) are shown by the pages'
 * exception filter.
 */
@HostedPages()
@Controller('verify-email')
export class VerifyEmailPagesController {
  constructor(
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
      // The pages' filter shows every refusal of this page as a link problem.
      throw new AppError(
        'EMAIL_VERIFICATION_INVALID',
        'The address has no confirmation token. Open the link from the mail exactly as it was sent.',
      );
    }
    return this.renderer.send(reply, session, 'verify-email', { token });
  }

  @Post()
  async confirm(
    @PageSession() session: PageSession,
    @Req() request: FormRequest,
    @Res() reply: FastifyReply,
    @ClientIp() ip: string,
  ): Promise<FastifyReply> {
    const input = await validateForm(VerifyEmailDto, request.body, ['token']);
    const user = await this.emails.verify(input.token, ip);
    return this.renderer.send(reply, session, 'verify-email-done', {
      username: user.username,
      email: user.email,
    });
  }
}
