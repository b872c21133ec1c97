import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  Injectable,
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
 * Marks a step of the reset flow: reached with `Authorization: Bearer <resetToken>`, not an
 * access token, and only in the flow's order (the service decides).
 */
export function ResetStep(step: ResetStepName): MethodDecorator {
  return applyDecorators(
    Public(),
    SetMetadata(RESET_STEP, step),
    UseGuards(ResetStepGuard),
    ApiBearerAuth('reset-session'),
    ApiProblems(
      'RESET_SESSION_INVALID',
      ...(step === 'password' ? (['TWO_FACTOR_REQUIRED'] as const) : []),
    ),
  );
}

@Injectable()
export class ResetStepGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resets: PasswordResetService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const step = this.reflector.get<ResetStepName>(RESET_STEP, context.getHandler());
    const request = context.switchToHttp().getRequest<RequestWithReset>();
    const token = bearerToken(request.headers.authorization);
    request.resetContext = await this.resets.authorizeStep(token, step);
    return true;
  }
}
