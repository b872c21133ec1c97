import { describe, expect, it } from '@jest/globals';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { AllowClientCredentials } from '../../common/decorators/client-credentials.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { BearerHeaderStrategy } from '../strategies/bearer-header.strategy.js';
import { AccessTokenGuard } from './access-token.guard.js';

const alice: Principal = {
  userId: 'u-alice',
  sessionId: 's-1',
  username: 'alice',
  roles: [],
  mustChangePassword: false,
  amr: ['pwd'],
};

/**
 * A bearer strategy like AccessTokenStrategy (the same header parsing) whose verdicts are fixed
 * here instead of read from tokens and the database: `principals` maps a token to its principal.
 */
class AccessTokens extends BearerHeaderStrategy<Principal> {
  constructor(private readonly principals: Record<string, Principal>) {
    super();
  }

  protected validate(token: string): Promise<Principal | false> {
    if (token === 'database-down') {
      return Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      );
    }
    return Promise.resolve(this.principals[token] ?? false);
  }
}

@Public()
class OpenController {
  page(): void {}
}

class ApiController {
  @Public()
  health(): void {}

  me(): void {}

  @AllowClientCredentials()
  introspect(): void {}
}

type TestRequest = { headers: Record<string, string>; user?: unknown };

function call(
  controller: new () => object,
  handler: string,
  headers: Record<string, string> = {},
): { context: ExecutionContextHost; request: TestRequest } {
  const request: TestRequest = { headers };
  const method = (controller.prototype as Record<string, () => void>)[handler];
  return { context: new ExecutionContextHost([request, {}], controller, method), request };
}

const guard = new AccessTokenGuard(new Reflector(), new AccessTokens({ 'alice-token': alice }));

describe('AccessTokenGuard', () => {
  it('lets a request without a token reach a @Public() route', () => {
    const { context, request } = call(ApiController, 'health');
    // Answered at once, without running the strategy.
    expect(guard.canActivate(context)).toBe(true);
    expect(request.user).toBeUndefined();
  });

  it('lets a request without a token reach every route of a @Public() controller', () => {
    expect(guard.canActivate(call(OpenController, 'page').context)).toBe(true);
  });

  it('refuses a request without a token anywhere else: 401 UNAUTHORIZED', async () => {
    await expect(guard.canActivate(call(ApiController, 'me').context)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      status: 401,
    });
  });

  it.each([
    ['a token the strategy refuses', 'Bearer someone-elses-token'],
    ['another scheme', 'Basic YWxpY2U6c2VjcmV0'],
    ['a token in two parts', 'Bearer alice-token extra'],
  ])('refuses %s: 401 UNAUTHORIZED', async (_, authorization) => {
    const { context } = call(ApiController, 'me', { authorization });
    await expect(guard.canActivate(context)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('puts the principal of a valid token on the request', async () => {
    const { context, request } = call(ApiController, 'me', { authorization: 'Bearer alice-token' });
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request.user).toEqual(alice);
  });

  it('leaves HTTP Basic to the client-credentials guard of a route that takes it, and only there', async () => {
    const authorization = `Basic ${Buffer.from('wiki:s3cret').toString('base64')}`;
    const { context, request } = call(ApiController, 'introspect', { authorization });
    expect(await guard.canActivate(context)).toBe(true);
    expect(request.user).toBeUndefined();
    await expect(
      guard.canActivate(call(ApiController, 'me', { authorization }).context),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('passes an unreachable database on as it is (a 503), not as a bad token', async () => {
    const { context } = call(ApiController, 'me', { authorization: 'Bearer database-down' });
    await expect(guard.canActivate(context)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it("checks tokens with its own app's strategy, whatever other apps the process holds", async () => {
    // Two instances in one process (as the multi-instance tests run them), each with its own
    // sessions: a guard created later must not take over the tokens of the first.
    const bob: Principal = { ...alice, userId: 'u-bob', username: 'bob' };
    const other = new AccessTokenGuard(new Reflector(), new AccessTokens({ 'bob-token': bob }));
    const mine = call(ApiController, 'me', { authorization: 'Bearer alice-token' });
    await expect(guard.canActivate(mine.context)).resolves.toBe(true);
    expect(mine.request.user).toEqual(alice);
    const theirs = call(ApiController, 'me', { authorization: 'Bearer bob-token' });
    await expect(other.canActivate(theirs.context)).resolves.toBe(true);
    expect(theirs.request.user).toEqual(bob);
    await expect(
      guard.canActivate(call(ApiController, 'me', { authorization: 'Bearer bob-token' }).context),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('keeps concurrent requests apart (each gets the verdict on its own token)', async () => {
    const calls = Array.from({ length: 20 }, (_, i) =>
      call(ApiController, 'me', { authorization: `Bearer ${i % 2 ? 'alice-token' : 'nobody'}` }),
    );
    const verdicts = await Promise.allSettled(
      calls.map(async ({ context }) => guard.canActivate(context)),
    );
    verdicts.forEach((verdict, i) => {
      expect(verdict.status).toBe(i % 2 ? 'fulfilled' : 'rejected');
      expect(calls[i].request.user).toEqual(i % 2 ? alice : undefined);
    });
  });
});
