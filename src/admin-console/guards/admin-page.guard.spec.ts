import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuditRecord, AuditService } from '../../audit/audit.service.js';
import { ErrorPage, PageRedirect } from '../../pages/page-exceptions.js';
import type { PageSession, PageSessions } from '../../pages/page-session.service.js';
import { AdminPageGuard } from './admin-page.guard.js';

class Handlers {
  page(): void {}
}

function contextOf(method: string, url: string): ExecutionContext {
  const request = { method, url, ip: '203.0.113.9', routeOptions: { url: '/admin/users' } };
  return {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
    getHandler: () => Handlers.prototype.page,
    getClass: () => Handlers,
  } as unknown as ExecutionContext;
}

function guardFor(user: Partial<NonNullable<PageSession['user']>> | null) {
  const recorded: AuditRecord[] = [];
  const session = {
    csrf: 'c',
    user: user
      ? { userId: 'u1', sessionId: 's1', refreshToken: 'r', mustChangePassword: false, ...user }
      : null,
  } as PageSession;
  const sessions = { load: () => Promise.resolve(session) } as unknown as PageSessions;
  const audit = {
    record: (event: AuditRecord) => {
      recorded.push(event);
      return Promise.resolve();
    },
  } as unknown as AuditService;
  return { guard: new AdminPageGuard(new Reflector(), sessions, audit), recorded };
}

describe('AdminPageGuard', () => {
  it('sends an anonymous visitor to sign in and back; a form post says the session ended', async () => {
    const { guard } = guardFor(null);
    await expect(guard.canActivate(contextOf('GET', '/admin/users?page=2'))).rejects.toEqual(
      new PageRedirect('/login?next=%2Fadmin%2Fusers%3Fpage%3D2'),
    );
    await expect(guard.canActivate(contextOf('POST', '/admin/users'))).rejects.toEqual(
      new PageRedirect('/login?done=session-ended'),
    );
  });

  it('sends a temporary password to the change form before anything else', async () => {
    const { guard, recorded } = guardFor({ roles: [], mustChangePassword: true });
    await expect(guard.canActivate(contextOf('GET', '/admin'))).rejects.toEqual(
      new PageRedirect('/account/password'),
    );
    expect(recorded).toEqual([]);
  });

  it('refuses a user without the admin role with a 403 page, recorded as access.forbidden', async () => {
    const { guard, recorded } = guardFor({ roles: ['support'] });
    const refusal = guard.canActivate(contextOf('POST', '/admin/users'));
    await expect(refusal).rejects.toBeInstanceOf(ErrorPage);
    await expect(refusal).rejects.toMatchObject({ status: 403 });
    expect(recorded).toEqual([
      expect.objectContaining({
        type: 'access.forbidden',
        actorId: 'u1',
        clientIp: '203.0.113.9',
        details: { method: 'POST', route: '/admin/users', roles: ['admin'] },
      }),
    ]);
  });

  it('lets an admin through', async () => {
    const { guard } = guardFor({ roles: ['admin'] });
    await expect(guard.canActivate(contextOf('GET', '/admin'))).resolves.toBe(true);
  });
});
