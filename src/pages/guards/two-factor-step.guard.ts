import {
  applyDecorators,
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { PageRedirect } from '../page-exceptions.js';
import { PageSessions } from '../page-session.service.js';

type Request = FastifyRequest & { signInChallenge?: string };

/**
 * The code step of a sign-in (/login/two-factor, /interaction/:uid/two-factor): only with the
 * challenge the password step left in its cookie. Without one, back to the password form the
 * step hangs under; the handler takes the challenge with @SignInChallenge().
 */
export function TwoFactorStep(): MethodDecorator {
  return applyDecorators(UseGuards(TwoFactorStepGuard));
}

/** The sign-in's password form: the code step's own path without "/two-factor". */
export function passwordFormOf(url: string): string {
  return url.split('?')[0].replace(/\/two-factor\/?$/, '');
}

@Injectable()
export class TwoFactorStepGuard implements CanActivate {
  constructor(private readonly sessions: PageSessions) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const challenge = this.sessions.challenge(request);
    if (!challenge) {
      throw new PageRedirect(passwordFormOf(request.url));
    }
    request.signInChallenge = challenge;
    return true;
  }
}

/** The challenge token TwoFactorStepGuard found for this request. */
export const SignInChallenge = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const challenge = context.switchToHttp().getRequest<Request>().signInChallenge;
  if (!challenge) {
    throw new Error('no sign-in challenge on this request: is @TwoFactorStep() on the handler?');
  }
  return challenge;
});
