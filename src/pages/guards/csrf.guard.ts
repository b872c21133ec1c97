import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { FormRequest } from '../page-base.js';
import { FormExpired } from '../page-exceptions.js';
import { CSRF_FIELD, PageSessions } from '../page-session.service.js';

/** Methods that change nothing, so carry no form to check. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every page form post must echo the synchronizer CSRF token of this browser's session;
 * otherwise the 403 "form expired" page (FormExpired) and the handler never runs.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly sessions: PageSessions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FormRequest>();
    if (SAFE_METHODS.has(request.method)) {
      return true;
    }
    const session = await this.sessions.load(request, http.getResponse<FastifyReply>());
    if (!this.sessions.csrfMatches(session, request.body?.[CSRF_FIELD])) {
      throw new FormExpired();
    }
    return true;
  }
}
