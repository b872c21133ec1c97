import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
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
import { PageSession } from './page-session.decorator.js';
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

describe('PageSessionGuard', () => {
  it("puts a signed-in browser's session on the request, for @PageSession()", async () => {
    const { service } = pageSessions();
    const request: Request = {
      method: 'GET',
      cookies: { [SESSION_COOKIE]: signedInCookie(service, 's1') },
    };
    const reply = replyKeepingCookies();
    const guard = new PageSessionGuard(service);
    await expect(guard.canActivate(contextOf(request, reply))).resolves.toBe(true);
    expect(request.pageSession?.user).toMatchObject({
      userId: 'u1',
      sessionId: 's1',
      refreshToken: 'r1',
      username: 'ada',
    });
    expect(request.pageSession?.csrf).toMatch(/^[\w-]{43}$/);
    // The handler's parameter is that very session.
    class Target {
      handler(@PageSession() _session: Loaded): void {}
    }
    const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Target, 'handler') as Record<
      string,
      { factory: (data: unknown, context: ExecutionContext) => unknown }
    >;
    const factory = Object.values(args)[0].factory;
    expect(factory(undefined, contextOf(request, reply))).toBe(request.pageSession);
  });

  it('lets a browser without a cookie through as anonymous, with a fresh CSRF token cookie', async () => {
    const { service } = pageSessions();
    const request: Request = { method: 'GET', cookies: {} };
    const reply = replyKeepingCookies();
    await expect(
      new PageSessionGuard(service).canActivate(contextOf(request, reply)),
    ).resolves.toBe(true);
    expect(request.pageSession?.user).toBeNull();
    expect(reply.set[SESSION_COOKIE]).toBeDefined();
    expect(reply.set[SESSION_COOKIE]).not.toContain(request.pageSession!.csrf);
  });

  it('treats a session revoked on the server as signed out, and replaces its cookie', async () => {
    const { service, live } = pageSessions();
    const cookie = signedInCookie(service, 's1');
    live.delete('s1');
    const request: Request = { method: 'POST', cookies: { [SESSION_COOKIE]: cookie } };
    const reply = replyKeepingCookies();
    await expect(
      new PageSessionGuard(service).canActivate(contextOf(request, reply)),
    ).resolves.toBe(true);
    expect(request.pageSession?.user).toBeNull();
    expect(reply.set[SESSION_COOKIE]).toBeDefined();
    expect(reply.set[SESSION_COOKIE]).not.toBe(cookie);
  });

  it('treats a forged cookie as no session', async () => {
    const { service, lookups } = pageSessions();
    const request: Request = { method: 'GET', cookies: { [SESSION_COOKIE]: 'forged.value' } };
    await new PageSessionGuard(service).canActivate(contextOf(request, replyKeepingCookies()));
    expect(request.pageSession?.user).toBeNull();
    expect(lookups).toEqual([]);
  });

  it('reads the session once per request, however many guards ask', async () => {
    const { service, lookups } = pageSessions();
    const request: Request = {
      method: 'GET',
      cookies: { [SESSION_COOKIE]: signedInCookie(service, 's1') },
    };
    const reply = replyKeepingCookies();
    const guard = new PageSessionGuard(service);
    await guard.canActivate(contextOf(request, reply));
    const first = request.pageSession;
    await guard.canActivate(contextOf(request, reply));
    await service.load(request as never, reply);
    expect(request.pageSession).toBe(first);
    expect(lookups).toEqual(['s1']);
  });
});
