import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Optional,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../../auth/strategies/bearer-header.strategy.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { ApiProblems } from '../../common/openapi.js';
import { PasswordResetService, type ResetContext } from '../password-reset.service.js';
import type { ResetStepName } from '../reset-step.js';

const RESET_STEP = 'portcullis:reset-step';

export type RequestWithReset = FastifyRequest & { resetContext?: ResetContext };

/**
 * Where a step finds the reset token: the API's `Authorization: Bearer <resetToken>`, or the
 * hosted pages' sealed reset cookie (read by the provider of RESET_TOKEN_COOKIE).
 */
export type ResetTokenSource = 'bearer' | 'page-cookie';

/** Reads the reset token the hosted pages keep in their cookie (provided by the pages module). */
export const RESET_TOKEN_COOKIE = Symbol('RESET_TOKEN_COOKIE');

export interface ResetTokenCookie {
  resetToken(request: FastifyRequest): string | undefined;
}

interface StepMetadata {
  step: ResetStepName;
  from: ResetTokenSource;
}

/**
 * Marks a step of the reset flow: reached with the reset token, not an access token, and only
 * in the flow's order (the service decides, the same way for the API and the pages).
 */
export function ResetStep(step: ResetStepName, from: ResetTokenSource = 'bearer'): MethodDecorator {
  const decorators = [
    Public(),
    SetMetadata(RESET_STEP, { step, from } satisfies StepMetadata),
    UseGuards(ResetStepGuard),
  ];
  if (from === 'bearer') {
    decorators.push(
      ApiBearerAuth('reset-session'),
      ApiProblems(
        'RESET_SESSION_INVALID',
        ...(step === 'password' ? (['TWO_FACTOR_REQUIRED'] as const) : []),
      ),
    );
  }
  return applyDecorators(...decorators);
}

@Injectable()
export class ResetStepGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resets: PasswordResetService,
    @Optional() @Inject(RESET_TOKEN_COOKIE) private readonly cookie?: ResetTokenCookie,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { step, from } = this.reflector.get<StepMetadata>(RESET_STEP, context.getHandler());
    const request = context.switchToHttp().getRequest<RequestWithReset>();
    request.resetContext = await this.resets.authorizeStep(this.token(request, from), step);
    return true;
  }

  private token(request: FastifyRequest, from: ResetTokenSource): string | undefined {
    if (from === 'bearer') {
      return bearerToken(request.headers.authorization);
    }
    if (!this.cookie) {
      throw new Error('@ResetStep(…, "page-cookie") outside a module providing RESET_TOKEN_COOKIE');
    }
    return this.cookie.resetToken(request);
  }
}
