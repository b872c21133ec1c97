import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../../audit/audit.service.js';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { ALLOWED_WITH_TEMPORARY_PASSWORD } from '../../common/decorators/allow-password-change.decorator.js';
import { REQUIRED_ROLES } from '../../common/decorators/roles.decorator.js';
import { AppError } from '../../common/errors/app-error.js';

/**
 * The temporary-password rule: a user whose password is temporary may only reach what is marked
 * @AllowedWithTemporaryPassword(). Shared with the hosted pages' SignedInPageGuard.
 */
export function mustChangePasswordFirst(
  reflector: Reflector,
  context: ExecutionContext,
  user: { mustChangePassword: boolean },
): boolean {
  return (
    user.mustChangePassword &&
    !reflector.getAllAndOverride<boolean>(ALLOWED_WITH_TEMPORARY_PASSWORD, [
      context.getHandler(),
      context.getClass(),
    ])
  );
}

/**
 * Runs after the access-token guard. A user whose password is temporary may only reach the
 * routes marked @AllowedWithTemporaryPassword(); @Roles() routes need every listed role.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    const user = request.user;
    if (!user) {
      return true; // a public route
    }
    const targets = [context.getHandler(), context.getClass()];
    if (mustChangePasswordFirst(this.reflector, context, user)) {
      throw new AppError(
        'PASSWORD_CHANGE_REQUIRED',
        'Your password is temporary: change it with PUT /api/v1/me/password first.',
      );
    }
    const roles =
      this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_ROLES, targets) ?? [];
    if (!roles.every((role) => user.roles.includes(role))) {
      // An admin route tried by someone who is not an admin: worth an admin's attention.
      await this.audit.record({
        type: 'access.forbidden',
        actorId: user.userId,
        subjectId: user.userId,
        clientIp: request.ip,
        details: { method: request.method, route: request.routeOptions.url ?? '', roles },
      });
      throw new AppError('FORBIDDEN', 'You do not have the role this requires.');
    }
    return true;
  }
}
