import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Injectable,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/errors/app-error.js';
import { errorForLog } from '../common/errors/problem-details.filter.js';
import { ErrorPage, PageProblem, PageRedirect, ResetLinkProblem } from './page-exceptions.js';
import { pageErrors, statusOf } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { type PageSession, PageSessions } from './page-session.service.js';

/** The reset link-problem page's words, by the service's refusal. */
const RESET_LINK_PROBLEMS: Record<string, { heading: string; title: string }> = {
  RESET_LINK_EXPIRED: { title: 'Link expired', heading: 'This reset link has expired' },
  RESET_LINK_USED: { title: 'Link already used', heading: 'This reset link was already used' },
  RESET_LINK_INVALID: { title: 'Link not valid', heading: 'This reset link is not valid' },
  RESET_SESSION_INVALID: {
    title: 'Reset ended',
    heading: 'This password reset has expired or ended',
  },
};

/** The confirmation-link page's words, by the service's refusal (anything else: "not valid"). */
const EMAIL_LINK_PROBLEMS: Record<string, { heading: string; title: string }> = {
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
  EMAIL_TAKEN: { title: 'Address taken', heading: 'This address belongs to another account' },
  TOO_MANY_ATTEMPTS: { title: 'Please wait', heading: 'Too many attempts' },
};

const RESET_LABELS = { code: 'The code', newPassword: 'The new password', token: 'The link' };

/** Where the reset flow sends a browser that skipped its authenticator step. */
const RESET_TWO_FACTOR_PAGE = '/reset-password/two-factor';

/** Whether a service error means the reset link or session is dead (the link-problem page). */
export function isResetLinkProblem(error: unknown): error is AppError {
  return error instanceof AppError && error.code in RESET_LINK_PROBLEMS;
}

/**
 * How a page answers what its guards and handlers throw: a redirect (PageRedirect, or
 * TWO_FACTOR_REQUIRED in the reset flow), the plain error page in the words of an ErrorPage
 * (FormExpired for a CSRF refusal, an application's sign-in that expired), the link-problem
 * page for a dead reset link or session, and for anything unexpected a logged error and the
 * plain error page (all rendered from templates/pages).
 */
@Catch()
@Injectable()
export class PagesExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  constructor(
    private readonly renderer: PageRenderer,
    private readonly sessions: PageSessions,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const request = host
      .switchToHttp()
      .getRequest<FastifyRequest & { pageSession?: PageSession }>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) {
      this.logUnexpected(request, exception);
      return;
    }
    const session = request.pageSession ?? null;
    try {
      await this.answer(exception, request, reply, session);
    } catch (error) {
      this.logUnexpected(request, error);
      if (!reply.sent) {
        await reply.status(500).type('text/plain; charset=utf-8').send('Something went wrong.');
      }
    }
  }

  private async answer(
    exception: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
    session: PageSession | null,
  ): Promise<void> {
    if (exception instanceof PageRedirect) {
      await this.renderer.redirect(reply, exception.to);
      return;
    }
    if (exception instanceof PageProblem) {
      const locale = this.renderer.localeOf(reply, session);
      const say = (key: string) => this.renderer.i18n.t(locale, key);
      const { title, heading, message } = exception.page;
      await this.renderer.send(
        reply,
        session,
        'error',
        { title: say(title), heading: say(heading), message: say(message) },
        exception.status,
      );
      return;
    }
    if (exception instanceof ErrorPage) {
      await this.renderer.send(reply, session, 'error', { ...exception.words }, exception.status);
      return;
    }
    if (exception instanceof AppError && exception.code === 'TWO_FACTOR_REQUIRED') {
      await this.renderer.redirect(reply, RESET_TWO_FACTOR_PAGE);
      return;
    }
    if (exception instanceof ResetLinkProblem || isResetLinkProblem(exception)) {
      await this.resetLinkProblem(
        reply,
        session,
        exception instanceof ResetLinkProblem ? exception.problem : exception,
      );
      return;
    }
    if (exception instanceof AppError && request.url.startsWith('/verify-email')) {
      const problem =
        EMAIL_LINK_PROBLEMS[exception.code] ?? EMAIL_LINK_PROBLEMS.EMAIL_VERIFICATION_INVALID;
      const errors = pageErrors(exception, {}, { token: 'The link' });
      await this.renderer.send(
        reply,
        session,
        'error',
        {
          ...problem,
          message: errors.form ?? Object.values(errors.fields).flat().join(' '),
        },
        statusOf(exception),
      );
      return;
    }
    this.logUnexpected(request, exception);
    await this.renderer.send(
      reply,
      session,
      'error',
      {
        title: 'Something went wrong',
        heading: 'Something went wrong',
        message: `Please try again in a moment. Reference: ${request.id}`,
      },
      500,
    );
  }

  private async resetLinkProblem(
    reply: FastifyReply,
    session: PageSession | null,
    error: unknown,
  ): Promise<void> {
    const errors = pageErrors(error, {}, RESET_LABELS);
    const code = error instanceof AppError ? error.code : 'RESET_LINK_INVALID';
    const problem = RESET_LINK_PROBLEMS[code] ?? RESET_LINK_PROBLEMS.RESET_LINK_INVALID;
    if (code === 'RESET_SESSION_INVALID') {
      this.sessions.clearResetToken(reply);
    }
    await this.renderer.send(
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

  private logUnexpected(request: FastifyRequest, exception: unknown): void {
    this.logger.error({
      msg: 'unhandled error on a page',
      requestId: request.id,
      route: request.routeOptions?.url,
      error: errorForLog(exception),
    });
  }
}
