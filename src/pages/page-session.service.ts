import { randomBytes } from 'node:crypto';
import { DEVICE_TOKEN_IDLE_DAYS } from '../sessions/device-tokens.service.js';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SecretBox } from '../common/crypto/secret-box.js';
import { constantTimeEqual } from '../common/crypto/tokens.js';
import type { Settings } from '../config/settings.js';
import { LANG_COOKIE, type Locale } from '../i18n/locales.js';
import { rememberLocale } from '../i18n/request-locale.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { type AuthState, UsersService } from '../users/users.service.js';

export const SESSION_COOKIE = 'portcullis_session';
export const RESET_COOKIE = 'portcullis_reset';
export const LOGIN_COOKIE = 'portcullis_login';
/** This browser's device token (see DeviceTokensService), sent only to the sign-in pages. */
export const DEVICE_COOKIE = 'portcullis_device';
export const CSRF_FIELD = '_csrf';
/** Where to go back once a password reset started from an application's sign-in is done. */
export const RETURN_COOKIE = 'portcullis_return';
/** The paths of the sign-in forms an application's sign-in (OpenID Connect) shows. */
export const INTERACTION_PATH = '/interaction';

/** What the session cookie holds, sealed (AES-256-GCM: unreadable and tamper-evident). */
interface SessionCookie {
  /** The synchronizer CSRF token of this browser (anonymous or signed in). */
  csrf: string;
  /** Set once signed in: the server-side session (revocation applies) and its refresh token. */
  sid?: string;
  uid?: string;
  rt?: string;
}

export interface PageUser extends Omit<AuthState, 'locale'> {
  /** The user's chosen language; unknown (undefined) right after an application's sign-in. */
  locale?: Locale | null;
  userId: string;
  sessionId: string;
  refreshToken: string;
}

/** The state of one browser as the pages see it. */
export interface PageSession {
  csrf: string;
  user: PageUser | null;
}

type Request = FastifyRequest & { pageSession?: PageSession };

const SEAL_CONTEXT = {
  session: 'page-session',
  reset: 'page-reset',
  login: 'page-login',
  device: 'page-device',
  returnTo: 'page-return-to',
};

/**
 * The hosted pages' cookies. The session cookie is bound to a row of the sessions table and
 * checked on every page (a revoked session signs the browser out at once); it also carries the
 * CSRF token every form must echo. The reset flow's token and the sign-in challenge live in
 * their own HttpOnly cookies scoped to their pages.
 */
@Injectable()
export class PageSessions {
  private readonly secure: boolean;
  private readonly maxAge: number;

  constructor(
    private readonly box: SecretBox,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    config: ConfigService<Settings, true>,
  ) {
    this.secure = config.get('http', { infer: true }).publicUrl.startsWith('https:');
    this.maxAge = config.get('tokens', { infer: true }).refreshTtl;
  }

  /** The browser's session (read once per request); a dead server-side session counts as none. */
  async load(request: Request, reply: FastifyReply): Promise<PageSession> {
    if (request.pageSession) {
      return request.pageSession;
    }
    const cookie = this.read<SessionCookie>(request, SESSION_COOKIE, SEAL_CONTEXT.session);
    let session: PageSession;
    if (cookie?.sid && cookie.uid && cookie.rt) {
      const state = (await this.sessions.isActive(cookie.sid, cookie.uid))
        ? await this.users.authState(cookie.uid)
        : null;
      session = {
        csrf: cookie.csrf,
        user:
          state && !state.disabled
            ? { ...state, userId: cookie.uid, sessionId: cookie.sid, refreshToken: cookie.rt }
            : null,
      };
      if (!session.user) {
        // Revoked, expired or disabled: forget it, keep only a fresh CSRF token.
        session = this.anonymous(reply);
      }
    } else if (cookie?.csrf) {
      session = { csrf: cookie.csrf, user: null };
    } else {
      session = this.anonymous(reply);
    }
    request.pageSession = session;
    return session;
  }

  /** Signs the browser in to a session the services started; a new CSRF token too. */
  signIn(
    reply: FastifyReply,
    issued: { sessionId: string; userId: string; refreshToken: string },
  ): void {
    this.write(reply, SESSION_COOKIE, SEAL_CONTEXT.session, '/', this.maxAge, {
      csrf: newCsrf(),
      sid: issued.sessionId,
      uid: issued.userId,
      rt: issued.refreshToken,
    } satisfies SessionCookie);
  }

  signOut(reply: FastifyReply): void {
    this.anonymous(reply);
  }

  /** Constant-time check of a form's CSRF token against the browser's session. */
  csrfMatches(session: PageSession, submitted: unknown): boolean {
    return (
      typeof submitted === 'string' &&
      constantTimeEqual(Buffer.from(session.csrf), Buffer.from(submitted))
    );
  }

  setResetToken(reply: FastifyReply, resetToken: string, ttlSeconds: number): void {
    this.write(reply, RESET_COOKIE, SEAL_CONTEXT.reset, '/reset-password', ttlSeconds, {
      token: resetToken,
    });
  }

  resetToken(request: FastifyRequest): string | undefined {
    return this.read<{ token: string }>(request, RESET_COOKIE, SEAL_CONTEXT.reset)?.token;
  }

  clearResetToken(reply: FastifyReply): void {
    this.clear(reply, RESET_COOKIE, '/reset-password');
  }

  /** `path`: the sign-in pages the challenge belongs to (an application's sign-in has its own). */
  setChallenge(
    reply: FastifyReply,
    challengeToken: string,
    ttlSeconds: number,
    path = '/login',
  ): void {
    this.write(reply, LOGIN_COOKIE, SEAL_CONTEXT.login, path, ttlSeconds, {
      token: challengeToken,
    });
  }

  challenge(request: FastifyRequest): string | undefined {
    return this.read<{ token: string }>(request, LOGIN_COOKIE, SEAL_CONTEXT.login)?.token;
  }

  clearChallenge(reply: FastifyReply, path = '/login'): void {
    this.clear(reply, LOGIN_COOKIE, path);
  }

  setDeviceToken(reply: FastifyReply, deviceToken: string): void {
    // Sent to both sign-in forms: ours, and the one an application's sign-in shows.
    for (const path of ['/login', INTERACTION_PATH]) {
      this.write(reply, DEVICE_COOKIE, SEAL_CONTEXT.device, path, DEVICE_TOKEN_IDLE_DAYS * 86_400, {
        token: deviceToken,
      });
    }
  }

  /** Remembers where to go back after a password reset (a path of ours, checked on the way back). */
  setReturnTo(reply: FastifyReply, path: string, ttlSeconds: number): void {
    this.write(reply, RETURN_COOKIE, SEAL_CONTEXT.returnTo, '/', ttlSeconds, { path });
  }

  /** The place to go back to, once: the cookie is cleared. Only our own OpenID paths count. */
  takeReturnTo(request: FastifyRequest, reply: FastifyReply): string | null {
    const saved = this.read<{ path: string }>(request, RETURN_COOKIE, SEAL_CONTEXT.returnTo);
    if (!saved) {
      return null;
    }
    this.clear(reply, RETURN_COOKIE, '/');
    return typeof saved.path === 'string' && saved.path.startsWith('/oidc/auth?')
      ? saved.path
      : null;
  }

  /**
   * The language cookie a `?lang=` leaves (see request-locale.ts), set to the language a user
   * saves on their account page, or cleared when they choose "as my browser".
   */
  setLanguage(reply: FastifyReply, locale: Locale | null): void {
    if (locale) {
      rememberLocale(reply, locale, this.secure);
    } else {
      this.clear(reply, LANG_COOKIE, '/');
    }
  }

  deviceToken(request: FastifyRequest): string | undefined {
    return this.read<{ token: string }>(request, DEVICE_COOKIE, SEAL_CONTEXT.device)?.token;
  }

  /** A value for a hidden field that only this server can read back (a pending TOTP secret). */
  seal(value: string, context: string): string {
    return this.box.seal(value, `page-field:${context}`);
  }

  unseal(sealed: unknown, context: string): string | null {
    if (typeof sealed !== 'string' || sealed.length > 1024) {
      return null;
    }
    try {
      return this.box.open(sealed, `page-field:${context}`).toString('utf8');
    } catch {
      return null;
    }
  }

  private anonymous(reply: FastifyReply): PageSession {
    const csrf = newCsrf();
    this.write(reply, SESSION_COOKIE, SEAL_CONTEXT.session, '/', undefined, {
      csrf,
    } satisfies SessionCookie);
    return { csrf, user: null };
  }

  private read<T>(request: FastifyRequest, name: string, context: string): T | null {
    const raw = request.cookies[name];
    if (!raw || raw.length > 4096) {
      return null;
    }
    try {
      return JSON.parse(this.box.open(raw, context).toString('utf8')) as T;
    } catch {
      return null;
    }
  }

  private write(
    reply: FastifyReply,
    name: string,
    context: string,
    path: string,
    maxAge: number | undefined,
    value: object,
  ): void {
    void reply.setCookie(name, this.box.seal(JSON.stringify(value), context), {
      path,
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      ...(maxAge === undefined ? {} : { maxAge }),
    });
  }

  private clear(reply: FastifyReply, name: string, path: string): void {
    void reply.clearCookie(name, { path, httpOnly: true, sameSite: 'lax', secure: this.secure });
  }
}

function newCsrf(): string {
  return randomBytes(32).toString('base64url');
}
