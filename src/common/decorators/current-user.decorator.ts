import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling: set by the access-token strategy from a verified token and a live session. */
export interface Principal {
  userId: string;
  sessionId: string;
  username: string;
  roles: string[];
  mustChangePassword: boolean;
  amr: string[];
}

export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<FastifyRequest & { user: Principal }>().user,
);
