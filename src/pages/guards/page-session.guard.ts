import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PageSessions } from '../page-session.service.js';

/** Loads the browser's page session before every page handler (read once per request). */
@Injectable()
export class PageSessionGuard implements CanActivate {
  constructor(private readonly sessions: PageSessions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.sessions.load(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
    return true;
  }
}
