import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The client's address. Fastify derives it from X-Forwarded-For only when TRUST_PROXY allows,
 * so a client cannot pick its own rate-limit bucket by sending the header.
 */
export const ClientIp = createParamDecorator(
  (_: unknown, context: ExecutionContext): string =>
    context.switchToHttp().getRequest<FastifyRequest>().ip,
);
