import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mustChangePasswordFirst } from '../../auth/guards/authorization.guard.js';
import { PageRedirect } from '../page-exceptions.js';
import { PageSessions } from '../page-session.service.js';

/**
 * A page for a signed-in browser. Without a session: the sign-in page (a form post says the
 * session ended). A temporary password: the change-password form first, by the same rule as
 * the API's AuthorizationGuard (@AllowedWithTemporaryPassword() lets a page through).
 * On a controller, put it above @HostedPages() so the CSRF check of a form post comes first.
 */
export function SignedInPage(): MethodDecorator & ClassDecorator {
  return applyDecorators(UseGuards(SignedInPageGuard));
}

@Injectable()
export class SignedInPageGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: PageSessions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    // Loaded once per request: usually PageSessionGuard did it already.
    const { user } = await this.sessions.load(request, http.getResponse<FastifyReply>());
    if (!user) {
      throw new PageRedirect(request.method === 'GET' ? '/login' : '/login?done=session-ended');
    }
    if (mustChangePasswordFirst(this.reflector, context, user)) {
      throw new PageRedirect('/account/password');
    }
    return true;
  }
}
