import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import passport from 'passport';
import type { Strategy } from 'passport-strategy';
import {
  ALLOWS_CLIENT_CREDENTIALS,
  isBasicAuthorization,
} from '../../common/decorators/client-credentials.decorator.js';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { IS_PUBLIC } from '../../common/decorators/public.decorator.js';
import { AppError } from '../../common/errors/app-error.js';
import { unavailableDependency } from '../../common/errors/unavailable.js';
import { AccessTokenStrategy } from '../strategies/access-token.strategy.js';
import type { BearerHeaderStrategy } from '../strategies/bearer-header.strategy.js';

const STRATEGY = 'access-token';

/**
 * Global and secure by default: every route needs an access token unless marked @Public(). The
 * token is checked by passport running this app's AccessTokenStrategy; the principal goes on
 * `request.user` (read by @CurrentUser()).
 *
 * The strategy is registered with a passport of this guard's own, not with passport's
 * process-wide registry (where @nestjs/passport puts it): there, the last app created in a
 * process would check every app's tokens with its own sessions, caches and database. One process
 * holds one app in production, but the multi-instance tests run several, and each must be itself.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  private readonly passport = new passport.Passport();

  constructor(
    private readonly reflector: Reflector,
    @Inject(AccessTokenStrategy) strategy: BearerHeaderStrategy<Principal>,
  ) {
    this.passport.use(STRATEGY, strategy as Strategy);
  }

  canActivate(context: ExecutionContext): true | Promise<true> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) {
      return true;
    }
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: Principal }>();
    // An application's client credentials, where the route takes them: its own guard checks them.
    const allowsClient = this.reflector.getAllAndOverride<boolean>(ALLOWS_CLIENT_CREDENTIALS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (allowsClient && isBasicAuthorization(request.headers.authorization)) {
      return true;
    }
    return this.authenticate(request, http.getResponse<FastifyReply>());
  }

  /** Runs the strategy (passport gives each request its own instance of it). */
  private authenticate(
    request: FastifyRequest & { user?: Principal },
    reply: FastifyReply,
  ): Promise<true> {
    return new Promise((resolve, reject) => {
      const verdict = (
        error: Error | null | undefined,
        user: Principal | false | undefined,
      ): void => {
        if (error && unavailableDependency(error)) {
          reject(error); // the token may be fine: the database is not (503)
        } else if (error || !user) {
          reject(new AppError('UNAUTHORIZED', 'A valid access token is required.'));
        } else {
          request.user = user;
          resolve(true);
        }
      };
      const middleware = this.passport.authenticate(STRATEGY, { session: false }, verdict) as (
        request: unknown,
        reply: unknown,
        next: (error?: Error) => void,
      ) => void;
      // `next` runs only when a strategy neither accepts nor refuses (passport's `pass`): refused.
      middleware(request, reply, (error) => verdict(error, false));
    });
  }
}
