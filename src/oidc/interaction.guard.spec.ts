import { describe, expect, it } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { InteractionDetails } from 'oidc-provider';
import { ErrorPage, PageRedirect } from '../pages/page-exceptions.js';
import type { PageSession, PageSessions, PageUser } from '../pages/page-session.service.js';
import {
  type Interaction,
  InteractionGuard,
  InteractionStep,
  interactionStepRefusal,
} from './interaction.guard.js';
import type { ClientView, OidcClients } from './oidc-clients.service.js';
import type { OidcProviderService } from './oidc-provider.service.js';

const user = (over: Partial<PageUser> = {}): PageUser =>
  ({ userId: 'u1', sessionId: 's1', mustChangePassword: false, ...over }) as PageUser;

function details(prompt: string, accountId?: string): InteractionDetails {
  return {
    uid: 'abc',
    prompt: { name: prompt, reasons: [], details: {} },
    params: { client_id: 'wiki', redirect_uri: 'https://wiki.example/cb' },
    session: accountId ? { accountId } : undefined,
  } as unknown as InteractionDetails;
}

const interactionOf = (d: InteractionDetails): Interaction => ({
  details: d,
  client: { clientId: 'wiki', redirectUris: [] } as unknown as ClientView,
  path: '/interaction/abc',
});

describe('interactionStepRefusal', () => {
  const consent = interactionOf(details('consent', 'u1'));

  it('lets anyone whose sign-in is open see its first pages', () => {
    expect(interactionStepRefusal('sign-in', consent, null)).toBeNull();
  });

  it('sends a browser that has not signed in back to the first page', () => {
    expect(interactionStepRefusal('signed-in', consent, null)).toBe('/interaction/abc');
    expect(interactionStepRefusal('signed-in', consent, user())).toBeNull();
  });

  it('allows consent only for the account asked about, and no temporary password left', () => {
    expect(interactionStepRefusal('consent', consent, user())).toBeNull();
    for (const refused of [
      [consent, null],
      [consent, user({ userId: 'u2' })],
      [consent, user({ mustChangePassword: true })],
      [interactionOf(details('login')), user()],
      [interactionOf(details('consent')), user()],
    ] as const) {
      expect(interactionStepRefusal('consent', refused[0], refused[1])).toBe('/interaction/abc');
    }
  });
});

describe('InteractionGuard', () => {
  class Handlers {
    show(): void {}
    @InteractionStep('consent')
    approve(): void {}
  }

  function run(
    found: InteractionDetails | Error,
    options: { uid?: string; handler?: keyof Handlers; client?: boolean; user?: PageUser } = {},
  ) {
    const headers: Record<string, string> = {};
    const request = { params: { uid: options.uid ?? 'abc' } } as Record<string, unknown>;
    const reply = { header: (name: string, value: string) => (headers[name] = value) };
    const oidc = {
      interactionDetails: () =>
        found instanceof Error ? Promise.reject(found) : Promise.resolve(found),
    } as unknown as OidcProviderService;
    const clients = {
      find: (id: string) =>
        Promise.resolve(
          options.client === false
            ? null
            : { clientId: id, redirectUris: ['https://wiki.example/cb'] },
        ),
    } as unknown as OidcClients;
    const sessions = {
      load: () => Promise.resolve({ csrf: 'c', user: options.user ?? null } satisfies PageSession),
    } as unknown as PageSessions;
    const guard = new InteractionGuard(new Reflector(), oidc, clients, sessions);
    const context = {
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
      getHandler: () => Handlers.prototype[options.handler ?? 'show'],
      getClass: () => Handlers,
    } as unknown as ExecutionContext;
    return { result: guard.canActivate(context), request, headers };
  }

  const sessionNotFound = Object.assign(new Error('gone'), { name: 'SessionNotFound' });

  it('loads the sign-in for the handler and lets its forms lead back to the application', async () => {
    const { result, request, headers } = run(details('login'));
    await expect(result).resolves.toBe(true);
    expect((request.interaction as Interaction).path).toBe('/interaction/abc');
    expect(headers['content-security-policy']).toContain("form-action 'self' https://wiki.example");
  });

  it('answers the expired page for a finished sign-in, another sign-in, or a deleted client', async () => {
    for (const [found, options] of [
      [sessionNotFound, {}],
      [details('login'), { uid: 'other' }],
      [details('login'), { client: false }],
    ] as const) {
      const { result, headers } = run(found, options);
      await expect(result).rejects.toBeInstanceOf(ErrorPage);
      await expect(result).rejects.toMatchObject({ status: 400 });
      expect(headers['content-security-policy']).toBeUndefined();
    }
  });

  it('lets any other failure through as an error (the database away is not the user)', async () => {
    await expect(run(new Error('connection refused')).result).rejects.toThrow('connection refused');
  });

  it("enforces the handler's step: consent without signing in goes back to the first page", async () => {
    await expect(run(details('consent', 'u1'), { handler: 'approve' }).result).rejects.toEqual(
      new PageRedirect('/interaction/abc'),
    );
    await expect(
      run(details('consent', 'u1'), { handler: 'approve', user: user() }).result,
    ).resolves.toBe(true);
  });
});
