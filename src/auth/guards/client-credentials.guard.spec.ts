import { describe, expect, it } from '@jest/globals';
import type { ModuleRef } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { AppError } from '../../common/errors/app-error.js';
import { OidcClients } from '../../oidc/oidc-clients.service.js';
import { ClientCredentialsGuard } from './client-credentials.guard.js';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

/**
 * The guard, finding OidcClients through a module reference that holds one confidential client,
 * `wiki:s3cret` (the secret check itself, against a stored hash, is OidcClients' and tested with
 * it); what it was asked is kept.
 */
function setup() {
  const asked: { id: string; secret: string }[] = [];
  const clients = {
    authenticate: (id: string, secret: string) => {
      asked.push({ id, secret });
      return Promise.resolve(id === 'wiki' && secret === 's3cret' ? { clientId: id } : null);
    },
  };
  const moduleRef = {
    get: (type: unknown) => {
      if (type !== OidcClients) {
        throw new Error('the guard asked for something else than OidcClients');
      }
      return clients;
    },
  } as unknown as ModuleRef;
  return { guard: new ClientCredentialsGuard(moduleRef), asked };
}

function call(authorization?: string, user?: Principal) {
  const request = { headers: authorization ? { authorization } : {}, user };
  return new ExecutionContextHost([request, {}]);
}

describe('ClientCredentialsGuard', () => {
  it('leaves a request without HTTP Basic to the usual guards', async () => {
    const { guard, asked } = setup();
    await expect(guard.canActivate(call())).resolves.toBe(true);
    await expect(guard.canActivate(call('Bearer some.access.token'))).resolves.toBe(true);
    expect(asked).toEqual([]);
  });

  it('does not look at a Basic header when an access token already signed the caller in', async () => {
    const { guard, asked } = setup();
    const user = { userId: 'u-1' } as Principal;
    await expect(guard.canActivate(call(basic('wiki:wrong'), user))).resolves.toBe(true);
    expect(asked).toEqual([]);
  });

  it('lets a confidential client in with its id and secret', async () => {
    const { guard, asked } = setup();
    await expect(guard.canActivate(call(basic('wiki:s3cret')))).resolves.toBe(true);
    expect(asked).toEqual([{ id: 'wiki', secret: 's3cret' }]);
  });

  it('reads the id and secret form-decoded, as RFC 6749 §2.3.1 sends them', async () => {
    const { guard, asked } = setup();
    await guard.canActivate(call(basic('my+app%3A1:p%40ss+word'))).catch(() => undefined);
    expect(asked).toEqual([{ id: 'my app:1', secret: 'p@ss word' }]);
  });

  it.each([
    ['a wrong secret', basic('wiki:guess')],
    ['no colon', basic('wiki')],
    ['a broken percent-encoding', basic('wiki:%E0%A4%A')],
    ['the scheme in another case', `basic ${Buffer.from('wiki:guess').toString('base64')}`],
  ])('refuses %s: 401 UNAUTHORIZED, with a Basic challenge', async (_, authorization) => {
    const { guard } = setup();
    const refused = await guard.canActivate(call(authorization)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({
      code: 'UNAUTHORIZED',
      headers: { 'WWW-Authenticate': 'Basic realm="portcullis"' },
    });
  });
});
