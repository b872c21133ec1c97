import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { PageSession as LoadedSession, PageUser } from '../page-session.service.js';

/** The browser's session as the pages see it (CSRF token, signed-in user or null). */
export type PageSession = LoadedSession;

/** A session that SignedInPageGuard let through: the user is there. */
export type SignedInSession = LoadedSession & { user: PageUser };

/** The page session PageSessionGuard loaded for this request. */
export const PageSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): LoadedSession =>
    pageSessionOf(context.switchToHttp().getRequest<FastifyRequest>()),
);

export function pageSessionOf(
  request: FastifyRequest & { pageSession?: LoadedSession },
): LoadedSession {
  if (!request.pageSession) {
    throw new Error('no page session on this request: is PageSessionGuard on the controller?');
  }
  return request.pageSession;
}
