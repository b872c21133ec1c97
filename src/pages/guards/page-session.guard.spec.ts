import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import { SecretBox } from '../../common/crypto/secret-box.js';
import type { Settings } from '../../config/settings.js';
import type { SessionsService } from '../../sessions/sessions.service.js';
import type { AuthState, UsersService } from '../../users/users.service.js';
import {
  type PageSession as Loaded,
  PageSessions,
  SESSION_COOKIE,
} from '../page-session.service.js';
import { pageSessionOf } from './page-session.decorator.js';
import { PageSessionGuard } from './page-session.guard.js';

type Request = { method: string; cookies: Record<string, string>; pageSession?: Loaded };

/** A reply that keeps the cookies set on it, as a browser would. */
function replyKeepingCookies(): FastifyReply & { set: Record<string, string> } {
  const set: Record<string, string> = {};
  return {
    set,
    setCookie: (name: string, value: string) => {
      set[name] = value;
    },
  } as unknown as FastifyReply & { set: Record<string, string> };
}

function contextOf(request: Request, reply: FastifyReply): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
  } as unknown as ExecutionContext;
}

/** The real PageSessions over a real SecretBox; the session table and users are a small map. */
function pageSessions() {
  const live = new Set(['s1']);
  const lookups: string[] = [];
  const state: AuthState = {
    username: 'ada',
    roles: ['user'],
    disabled: false,
    mustChangePassword: false,
    locale: null,
  };
  const sessions = {
    isActive: (sid: string) => {
      lookups.push(sid);
      return Promise.resolve(live.has(sid));
    },
  } as unknown as SessionsService;
  const users = { authState: () => Promise.resolve(state) } as unknown as UsersService;
  const config = {
    get: (name: string) =>
      name === 'http' ? { publicUrl: 'http://portcullis.test' } : { refreshTtl: 3600 },
  } as unknown as ConfigService<Settings, true>;
  const service = new PageSessions(new SecretBox(randomBytes(32)), sessions, users, config);
  return { service, live, lookups };
}

/** The session cookie of a browser signed in to server-side session `sid`. */
function signedInCookie(service: PageSessions, sid: string): string {
  const reply = replyKeepingCookies();
  service.signIn(reply, { sessionId: sid, userId: 'u1', refreshToken: 'r1' });
  return reply.set[SESSION_COOKIE];
}

/** Runs the guard on a request with these cookies; it must let every browser through. */
async function guarded(service: PageSessions, cookies: Record<string, string>, method = 'GET') {
  const request: Request = { method, cookies };
  const reply = replyKeepingCookies();
  await expect(new PageSessionGuard(service).canActivate(contextOf(request, reply))).resolves.toBe(
    true,
  );
  return { request, reply, session: request.pageSession };
}

describe('PageSessionGuard', () => {
  it("puts a signed-in browser's session on the request, for @PageSession()", async () => {
    const { service } = pageSessions();
    const { request, session } = await guarded(service, {
      [SESSION_COOKIE]: signedInCookie(service, 's1'),
    });
    expect(session?.user).toMatchObject({
      userId: 'u1',
      sessionId: 's1',
      refreshToken: 'r1',
      username: 'ada',
    });
    expect(session?.csrf).toMatch(/^[\w-]{43}$/);
    // The handler's parameter (@PageSession()) is that very session.
    expect(pageSessionOf(request as never)).toBe(session);
  });

  it('lets a browser without a cookie through as anonymous, with a fresh CSRF token cookie', async () => {
    const { reply, session } = await guarded(pageSessions().service, {});
    expect(session?.user).toBeNull();
    expect(reply.set[SESSION_COOKIE]).toBeDefined();
    expect(reply.set[SESSION_COOKIE]).not.toContain(session!.csrf);
  });

  it('treats a session revoked on the server as signed out, and replaces its cookie', async () => {
    const { service, live } = pageSessions();
    const cookie = signedInCookie(service, 's1');
    live.delete('s1');
    const { reply, session } = await guarded(service, { [SESSION_COOKIE]: cookie }, 'POST');
    expect(session?.user).toBeNull();
    expect(reply.set[SESSION_COOKIE]).toBeDefined();
    expect(reply.set[SESSION_COOKIE]).not.toBe(cookie);
  });

  it('treats a forged cookie as no session', async () => {
    const { service, lookups } = pageSessions();
    const { session } = await guarded(service, { [SESSION_COOKIE]: 'forged.value' });
    expect(session?.user).toBeNull();
    expect(lookups).toEqual([]);
  });

  it('reads the session once per request, however many guards ask', async () => {
    const { service, lookups } = pageSessions();
    const { request, reply, session } = await guarded(service, {
      [SESSION_COOKIE]: signedInCookie(service, 's1'),
    });
    await new PageSessionGuard(service).canActivate(contextOf(request, reply));
    await service.load(request as never, reply);
    expect(request.pageSession).toBe(session);
    expect(lookups).toEqual(['s1']);
  });
});
