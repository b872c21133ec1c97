import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenPair } from '../auth/auth.service.js';
import type { TokenService } from '../auth/token.service.js';
import type { I18n } from '../i18n/i18n.service.js';
import type { Locale } from '../i18n/locales.js';
import type { PageData, PageRenderer } from './page-renderer.js';
import { CSRF_FIELD, type PageSession, type PageSessions } from './page-session.service.js';

export type FormRequest = FastifyRequest & { body?: Record<string, unknown> };

/** A form field's text value ('' when missing or not text). */
export function field(request: FormRequest, name: string): string {
  const value = request.body?.[name];
  return typeof value === 'string' ? value : '';
}

/** Groups a base32 secret by 4 for typing it into an authenticator by hand. */
export function groupsOf4(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}

/** Loads the session and checks the form's CSRF token; answers 403 itself when it is wrong. */
export async function checkedSession(
  sessions: PageSessions,
  renderer: PageRenderer,
  request: FormRequest,
  reply: FastifyReply,
): Promise<PageSession | null> {
  const session = await sessions.load(request, reply);
  if (sessions.csrfMatches(session, request.body?.[CSRF_FIELD])) {
    return session;
  }
  await renderer.send(
    reply,
    session,
    'error',
    formExpired(renderer.i18n, renderer.localeOf(reply, session)),
    403,
  );
  return null;
}

/** The words of the 403 page for a form whose CSRF token is not this browser's. */
export function formExpired(i18n: I18n, locale: Locale): PageData {
  return {
    titleKey: 'pages.error.formExpiredTitle',
    heading: i18n.t(locale, 'pages.error.formExpired'),
    message: i18n.t(locale, 'pages.error.formExpiredMessage'),
  };
}

/** Puts the browser in the session a service just started (login, 2FA step, reset). */
export function signIn(
  sessions: PageSessions,
  tokens: TokenService,
  reply: FastifyReply,
  pair: TokenPair,
): void {
  const claims = tokens.verifyAccessToken(pair.accessToken);
  if (!claims) {
    throw new Error('a freshly issued access token did not verify');
  }
  sessions.signIn(reply, {
    sessionId: claims.sid,
    userId: claims.sub,
    refreshToken: pair.refreshToken,
  });
}
