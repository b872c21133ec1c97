import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { AllowedWithTemporaryPassword } from '../../common/decorators/allow-password-change.decorator.js';
import {
  RESET_TOKEN_COOKIE,
  ResetStep,
  ResetStepGuard,
  type ResetTokenCookie,
} from '../../password-reset/guards/reset-step.guard.js';
import type { PasswordResetService } from '../../password-reset/password-reset.service.js';
import { FormExpired, PageRedirect } from '../page-exceptions.js';
import type { PageSession as Loaded, PageSessions } from '../page-session.service.js';
import { CsrfGuard } from './csrf.guard.js';
import { PageSession } from './page-session.decorator.js';
import { SignedInPageGuard } from './signed-in-page.guard.js';
import { TwoFactorStepGuard } from './two-factor-step.guard.js';

type Request = { method: string; body?: Record<string, unknown>; pageSession?: Loaded };

class Handlers {
  plain(): void {}
  @AllowedWithTemporaryPassword()
  temporaryAllowed(): void {}
  @ResetStep('password', 'page-cookie')
  pagePassword(): void {}
  @ResetStep('two-factor')
  apiTwoFactor(): void {}
}

function contextOf(request: Request, handler: keyof Handlers = 'plain'): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => ({}) }),
    getHandler: () => Handlers.prototype[handler],
    getClass: () => Handlers,
  } as unknown as ExecutionContext;
}

const user = (mustChangePassword = false): Loaded['user'] =>
  ({ userId: 'u1', sessionId: 's1', refreshToken: 'r', mustChangePassword }) as Loaded['user'];

/** PageSessions as the guards use it: load (cached on the request) and the CSRF comparison. */
function sessionsWith(session: Loaded): PageSessions {
  return {
    load: (request: Request) => Promise.resolve((request.pageSession ??= session)),
    csrfMatches: (s: Loaded, submitted: unknown) => submitted === s.csrf,
  } as unknown as PageSessions;
}

describe('CsrfGuard', () => {
  const guard = new CsrfGuard(sessionsWith({ csrf: 'right', user: null }));

  it('lets a GET through without a form', async () => {
    await expect(guard.canActivate(contextOf({ method: 'GET' }))).resolves.toBe(true);
  });

  it('lets a form post through that echoes the browser session token', async () => {
    const post = { method: 'POST', body: { _csrf: 'right' } };
    await expect(guard.canActivate(contextOf(post))).resolves.toBe(true);
  });

  it('refuses a form post with a forged or missing token as an expired form', async () => {
    for (const body of [{ _csrf: 'forged' }, {}, undefined]) {
      await expect(guard.canActivate(contextOf({ method: 'POST', body }))).rejects.toBeInstanceOf(
        FormExpired,
      );
    }
  });
});

describe('SignedInPageGuard', () => {
  const guardFor = (session: Loaded) =>
    new SignedInPageGuard(new Reflector(), sessionsWith(session));

  it('sends a browser without a session to the sign-in page, and a form post with "session ended"', async () => {
    const guard = guardFor({ csrf: 'c', user: null });
    await expect(guard.canActivate(contextOf({ method: 'GET' }))).rejects.toEqual(
      new PageRedirect('/login'),
    );
    await expect(
      guardFor({ csrf: 'c', user: null }).canActivate(contextOf({ method: 'POST' })),
    ).rejects.toMatchObject({ to: '/login?done=session-ended' });
  });

  it('lets a signed-in user through', async () => {
    const guard = guardFor({ csrf: 'c', user: user() });
    await expect(guard.canActivate(contextOf({ method: 'GET' }))).resolves.toBe(true);
  });

  it('sends a temporary password to the change-password form, by the API rule', async () => {
    const guard = guardFor({ csrf: 'c', user: user(true) });
    await expect(guard.canActivate(contextOf({ method: 'POST' }))).rejects.toMatchObject({
      to: '/account/password',
    });
  });

  it('lets a temporary password reach a page marked @AllowedWithTemporaryPassword()', async () => {
    const guard = guardFor({ csrf: 'c', user: user(true) });
    await expect(
      guard.canActivate(contextOf({ method: 'POST' }, 'temporaryAllowed')),
    ).resolves.toBe(true);
  });
});

describe('@PageSession()', () => {
  class Target {
    handler(@PageSession() _session: Loaded): void {}
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Target, 'handler') as Record<
    string,
    { factory: (data: unknown, context: ExecutionContext) => unknown }
  >;
  const factory = Object.values(args)[0].factory;

  it('hands the handler the session its guard loaded', () => {
    const session = { csrf: 'c', user: null };
    expect(factory(undefined, contextOf({ method: 'GET', pageSession: session }))).toBe(session);
  });

  it('fails loudly when no guard loaded a session', () => {
    expect(() => factory(undefined, contextOf({ method: 'GET' }))).toThrow(/PageSessionGuard/);
  });
});

describe('ResetStepGuard', () => {
  const seen: { token: string | undefined; step: string }[] = [];
  const resets = {
    authorizeStep: (token: string | undefined, step: string) => {
      seen.push({ token, step });
      return Promise.resolve({ session: { id: 'rs' }, user: { id: 'u1' } });
    },
  } as unknown as PasswordResetService;
  const cookie: ResetTokenCookie = { resetToken: () => 'from-cookie' };

  it('takes a page step from the reset cookie, through the same decision', async () => {
    seen.length = 0;
    const guard = new ResetStepGuard(new Reflector(), resets, cookie);
    const request = { method: 'POST', headers: { authorization: 'Bearer from-header' } };
    await expect(guard.canActivate(contextOf(request as Request, 'pagePassword'))).resolves.toBe(
      true,
    );
    expect(seen).toEqual([{ token: 'from-cookie', step: 'password' }]);
  });

  it('takes an API step from the bearer header, never from the cookie', async () => {
    seen.length = 0;
    const guard = new ResetStepGuard(new Reflector(), resets, cookie);
    const request = { method: 'POST', headers: { authorization: 'Bearer from-header' } };
    await guard.canActivate(contextOf(request, 'apiTwoFactor'));
    expect(seen).toEqual([{ token: 'from-header', step: 'two-factor' }]);
  });

  it('fails loudly for a page step in a module without the cookie reader', async () => {
    const guard = new ResetStepGuard(new Reflector(), resets);
    expect(RESET_TOKEN_COOKIE).toBeDefined();
    await expect(
      guard.canActivate(contextOf({ method: 'GET', headers: {} } as Request, 'pagePassword')),
    ).rejects.toThrow(/RESET_TOKEN_COOKIE/);
  });
});

describe('TwoFactorStepGuard', () => {
  const withChallenge = (token: string | undefined) =>
    new TwoFactorStepGuard({ challenge: () => token } as unknown as PageSessions);
  const request = (url: string) => ({ method: 'POST', url }) as Request & { url: string };

  it('hands the code step the challenge the password step left', () => {
    const seen = request('/login/two-factor');
    expect(withChallenge('challenge-1').canActivate(contextOf(seen))).toBe(true);
    expect((seen as { signInChallenge?: string }).signInChallenge).toBe('challenge-1');
  });

  it('sends a code step without a challenge back to the password form it hangs under', () => {
    const guard = withChallenge(undefined);
    expect(() => guard.canActivate(contextOf(request('/login/two-factor')))).toThrow(
      new PageRedirect('/login'),
    );
    expect(() =>
      guard.canActivate(contextOf(request('/interaction/abc/two-factor?recovery=1'))),
    ).toThrow(new PageRedirect('/interaction/abc'));
  });
});
