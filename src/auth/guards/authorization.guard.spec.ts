import { describe, expect, it } from '@jest/globals';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { AuditRecord, AuditService } from '../../audit/audit.service.js';
import { AllowedWithTemporaryPassword } from '../../common/decorators/allow-password-change.decorator.js';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { Roles } from '../../common/decorators/roles.decorator.js';
import { AuthorizationGuard } from './authorization.guard.js';

@Roles('admin')
class AdminController {
  list(): void {}

  @Roles('admin', 'auditor')
  auditTrail(): void {}
}

class MeController {
  @AllowedWithTemporaryPassword()
  changePassword(): void {}

  profileSettings(): void {}
}

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    userId: 'u-1',
    sessionId: 's-1',
    username: 'alice',
    roles: [],
    mustChangePassword: false,
    amr: ['pwd'],
    ...overrides,
  };
}

/** The guard with an audit trail that keeps what it is told. */
function setup() {
  const recorded: AuditRecord[] = [];
  const audit = {
    record: (event: AuditRecord) => {
      recorded.push(event);
      return Promise.resolve();
    },
  } as unknown as AuditService;
  return { guard: new AuthorizationGuard(new Reflector(), audit), recorded };
}

function call(controller: new () => object, handler: string, user?: Principal) {
  const request = {
    user,
    ip: '203.0.113.7',
    method: 'GET',
    routeOptions: { url: `/api/v1/${handler}` },
  };
  const method = (controller.prototype as Record<string, () => void>)[handler];
  return new ExecutionContextHost([request, {}], controller, method);
}

describe('AuthorizationGuard', () => {
  it('lets a public route through: there is no principal to check', async () => {
    const { guard } = setup();
    await expect(guard.canActivate(call(AdminController, 'list'))).resolves.toBe(true);
  });

  it('lets a user with every role a route needs through, class roles included', async () => {
    const { guard, recorded } = setup();
    const admin = principal({ roles: ['admin'] });
    await expect(guard.canActivate(call(AdminController, 'list', admin))).resolves.toBe(true);
    expect(recorded).toEqual([]);
  });

  it('takes a route’s own @Roles() over its controller’s', async () => {
    const { guard } = setup();
    const both = principal({ roles: ['admin', 'auditor'] });
    await expect(guard.canActivate(call(AdminController, 'auditTrail', both))).resolves.toBe(true);
    const adminOnly = principal({ roles: ['admin'] });
    await expect(
      guard.canActivate(call(AdminController, 'auditTrail', adminOnly)),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a user without the role: 403 FORBIDDEN, recorded for the admins', async () => {
    const { guard, recorded } = setup();
    const user = principal({ roles: ['auditor'] });
    await expect(guard.canActivate(call(AdminController, 'list', user))).rejects.toMatchObject({
      code: 'FORBIDDEN',
      status: 403,
    });
    expect(recorded).toEqual([
      {
        type: 'access.forbidden',
        actorId: 'u-1',
        subjectId: 'u-1',
        clientIp: '203.0.113.7',
        details: { method: 'GET', route: '/api/v1/list', roles: ['admin'] },
      },
    ]);
  });

  it('holds a user with a temporary password to the routes that allow it', async () => {
    const { guard } = setup();
    const temporary = principal({ mustChangePassword: true });
    await expect(guard.canActivate(call(MeController, 'changePassword', temporary))).resolves.toBe(
      true,
    );
    await expect(
      guard.canActivate(call(MeController, 'profileSettings', temporary)),
    ).rejects.toMatchObject({ code: 'PASSWORD_CHANGE_REQUIRED', status: 403 });
  });

  it('asks for the password change before it looks at roles (nothing is recorded)', async () => {
    const { guard, recorded } = setup();
    const temporary = principal({ mustChangePassword: true, roles: [] });
    await expect(guard.canActivate(call(AdminController, 'list', temporary))).rejects.toMatchObject(
      { code: 'PASSWORD_CHANGE_REQUIRED' },
    );
    expect(recorded).toEqual([]);
  });
});
