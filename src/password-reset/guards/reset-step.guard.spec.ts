import { describe, expect, it } from '@jest/globals';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { IS_PUBLIC } from '../../common/decorators/public.decorator.js';
import { AppError } from '../../common/errors/app-error.js';
import type { PasswordResetService, ResetContext } from '../password-reset.service.js';
import type { ResetStepName } from '../reset-step.js';
import { type RequestWithReset, ResetStep, ResetStepGuard } from './reset-step.guard.js';

class ResetController {
  @ResetStep('two-factor')
  verify(): void {}

  @ResetStep('password')
  complete(): void {}
}

const live = { session: { id: 'rs-1' }, user: { id: 'u-1' } } as unknown as ResetContext;

/**
 * The guard with the flow's decision standing in for PasswordResetService.authorizeStep (the
 * decision itself, resetStepRefusal, is tested in reset-step.spec.ts): it keeps what it was asked
 * and lets only the token 'live-token' take the two-factor step.
 */
function setup() {
  const asked: { token: string | undefined; step: ResetStepName }[] = [];
  const resets = {
    authorizeStep: (token: string | undefined, step: ResetStepName) => {
      asked.push({ token, step });
      if (token !== 'live-token') {
        return Promise.reject(new AppError('RESET_SESSION_INVALID'));
      }
      if (step === 'password') {
        return Promise.reject(new AppError('TWO_FACTOR_REQUIRED'));
      }
      return Promise.resolve(live);
    },
  } as unknown as PasswordResetService;
  return { guard: new ResetStepGuard(new Reflector(), resets), asked };
}

function call(handler: 'verify' | 'complete', headers: Record<string, string> = {}) {
  const request = { headers } as unknown as RequestWithReset;
  const context = new ExecutionContextHost(
    [request, {}],
    ResetController,
    ResetController.prototype[handler],
  );
  return { context, request };
}

describe('ResetStepGuard', () => {
  it('asks the flow about the step its route is marked with, for the bearer reset token', async () => {
    const { guard, asked } = setup();
    const { context, request } = call('verify', { authorization: 'Bearer live-token' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(asked).toEqual([{ token: 'live-token', step: 'two-factor' }]);
    // What the step's handler receives (@CurrentReset()).
    expect(request.resetContext).toBe(live);
  });

  it('passes the flow’s refusal on: the password step before 2FA is 403 TWO_FACTOR_REQUIRED', async () => {
    const { guard, asked } = setup();
    const { context, request } = call('complete', { authorization: 'Bearer live-token' });
    await expect(guard.canActivate(context)).rejects.toMatchObject({
      code: 'TWO_FACTOR_REQUIRED',
    });
    expect(asked).toEqual([{ token: 'live-token', step: 'password' }]);
    expect(request.resetContext).toBeUndefined();
  });

  it.each([
    ['without an Authorization header', {}],
    ['with another scheme', { authorization: 'Basic bGl2ZS10b2tlbg==' }],
  ])('asks with no token %s, and the flow refuses it', async (_, headers) => {
    const { guard, asked } = setup();
    await expect(guard.canActivate(call('verify', headers).context)).rejects.toMatchObject({
      code: 'RESET_SESSION_INVALID',
    });
    expect(asked).toEqual([{ token: undefined, step: 'two-factor' }]);
  });

  it('makes a reset step public: it takes a reset token, not an access token', () => {
    const reflector = new Reflector();
    for (const handler of [ResetController.prototype.verify, ResetController.prototype.complete]) {
      expect(reflector.get(IS_PUBLIC, handler)).toBe(true);
    }
  });
});
