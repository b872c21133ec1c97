import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditService } from '../../audit/audit.service.js';
import { mustChangePasswordFirst } from '../../auth/guards/authorization.guard.js';
import { ErrorPage, PageRedirect } from '../../pages/page-exceptions.js';
import { PageSessions } from '../../pages/page-session.service.js';
import { loginPathFor } from '../../pages/return-path.js';

/** The role the console needs, as the admin API's @Roles('admin'). */
export const ADMIN_ROLE = 'admin';

/**
 * A page of the admin console. Put it above @HostedPages(): the CSRF check of a form post runs
 * first. Then: no session → the sign-in page, which comes back here (a form post says the
 * session ended); a temporary password → the change-password form first (the API's rule);
 * signed in without the admin role → a 403 page, recorded like a 403 of the admin API.
 */
export function AdminPage(): ClassDecorator & MethodDecorator {
  return applyDecorators(UseGuards(AdminPageGuard));
}

@Injectable()
export class AdminPageGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: PageSessions,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const { user } = await this.sessions.load(request, http.getResponse<FastifyReply>());
    if (!user) {
      throw new PageRedirect(
        request.method === 'GET' ? loginPathFor(request.url) : '/login?done=session-ended',
      );
    }
    if (mustChangePasswordFirst(this.reflector, context, user)) {
      throw new PageRedirect('/account/password');
    }
    if (!user.roles.includes(ADMIN_ROLE)) {
      await this.audit.record({
        type: 'access.forbidden',
        actorId: user.userId,
        subjectId: user.userId,
        clientIp: request.ip,
        details: {
          method: request.method,
          route: request.routeOptions.url ?? '',
          roles: [ADMIN_ROLE],
        },
      });
      throw new ErrorPage(403, {
        title: 'admin.forbidden.title',
        heading: 'admin.forbidden.heading',
        message: 'admin.forbidden.message',
      });
    }
    return true;
  }
}
