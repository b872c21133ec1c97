import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import {
  ALLOWS_CLIENT_CREDENTIALS,
  isBasicAuthorization,
} from '../../common/decorators/client-credentials.decorator.js';
import { IS_PUBLIC } from '../../common/decorators/public.decorator.js';
import { AppError } from '../../common/errors/app-error.js';
import { unavailableDependency } from '../../common/errors/unavailable.js';

/** Global and secure by default: every route needs an access token unless marked @Public(). */
@Injectable()
export class AccessTokenGuard extends AuthGuard('access-token') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) {
      return true;
    }
    // An application's client credentials, where the route takes them: its own guard checks them.
    const allowsClient = this.reflector.getAllAndOverride<boolean>(ALLOWS_CLIENT_CREDENTIALS, [
      context.getHandler(),
      context.getClass(),
    ]);
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    if (allowsClient && isBasicAuthorization(header)) {
      return true;
    }
    return super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, user: T | false): T {
    if (unavailableDependency(error)) {
      throw error; // the token may be fine: the database is not (503, see ProblemDetailsFilter)
    }
    if (error || !user) {
      throw new AppError('UNAUTHORIZED', 'A valid access token is required.');
    }
    return user;
  }
}
