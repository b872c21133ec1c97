import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ResetContext } from '../password-reset.service.js';
import type { RequestWithReset } from './reset-step.guard.js';

/** The reset session and user that ResetStepGuard let through. */
export const CurrentReset = createParamDecorator(
  (_: unknown, context: ExecutionContext): ResetContext =>
    context.switchToHttp().getRequest<RequestWithReset>().resetContext as ResetContext,
);
