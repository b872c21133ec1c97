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
import type { MessageValues } from '../i18n/i18n.service.js';
import type { Locale } from '../i18n/locales.js';
import { ErrorPage, PageRedirect, ResetLinkProblem } from './page-exceptions.js';
import { type PageErrors, pageErrors, statusOf } from './page-errors.js';
import { PageRenderer } from './page-renderer.js';
import { type PageSession, PageSessions } from './page-session.service.js';

/**
 * The reset link-problem page's title, by the service's refusal (catalogue keys under
 * `pages.error.`); its heading is `pages.error.<CODE>`.
 */
const RESET_LINK_PROBLEMS: Record<string, string> = {
  RESET_LINK_EXPIRED: 'linkExpired',
  RESET_LINK_USED: 'linkUsed',
  RESET_LINK_INVALID: 'linkInvalid',
  RESET_SESSION_INVALID: 'resetEnded',
};

/** The confirmation-link page's title, by the service's refusal (anything else: "not valid"). */
const EMAIL_LINK_PROBLEMS: Record<string, string> = {
  EMAIL_VERIFICATION_EXPIRED: 'linkExpired',
  EMAIL_VERIFICATION_USED: 'linkUsed',
  EMAIL_VERIFICATION_INVALID: 'linkInvalid',
  EMAIL_TAKEN: 'addressTaken',
  TOO_MANY_ATTEMPTS: 'pleaseWait',
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
    const locale = this.renderer.localeOf(reply, session);
    const t = (key: string, values?: MessageValues): string =>
      this.renderer.i18n.t(locale, key, values);
    if (exception instanceof ErrorPage) {
      const { title, heading, message } = exception.words;
      await this.renderer.send(
        reply,
        session,
        'error',
        { titleKey: title, heading: t(heading), message: t(message) },
        exception.status,
      );
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
      const code =
        exception.code in EMAIL_LINK_PROBLEMS ? exception.code : 'EMAIL_VERIFICATION_INVALID';
      const errors = pageErrors(exception, {}, { token: 'The link' });
      await this.renderer.send(
        reply,
        session,
        'error',
        {
          titleKey: `pages.error.${EMAIL_LINK_PROBLEMS[code]}`,
          heading: t(`pages.error.${code}`),
          message: this.messageOf(locale, errors),
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
        titleKey: 'pages.error.unexpectedTitle',
        heading: t('pages.error.unexpectedTitle'),
        message: t('pages.error.unexpected', { reference: request.id }),
      },
      500,
    );
  }

  /** The errors of a refused link as one sentence in the page's language. */
  private messageOf(locale: Locale, errors: PageErrors): string {
    const messages = errors.form ? [errors.form] : Object.values(errors.fields).flat();
    return messages.map((message) => this.renderer.say(locale, message)).join(' ');
  }

  private async resetLinkProblem(
    reply: FastifyReply,
    session: PageSession | null,
    error: unknown,
  ): Promise<void> {
    const errors = pageErrors(error, {}, RESET_LABELS);
    const known = error instanceof AppError && error.code in RESET_LINK_PROBLEMS;
    const code = known ? error.code : 'RESET_LINK_INVALID';
    if (code === 'RESET_SESSION_INVALID') {
      this.sessions.clearResetToken(reply);
    }
    const locale = this.renderer.localeOf(reply, session);
    await this.renderer.send(
      reply,
      session,
      'reset-link-problem',
      {
        titleKey: `pages.error.${RESET_LINK_PROBLEMS[code]}`,
        heading: this.renderer.i18n.t(locale, `pages.error.${code}`),
        message: this.messageOf(locale, errors),
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
