import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../common/decorators/current-user.decorator.js';
import { isBasicAuthorization } from '../../common/decorators/client-credentials.decorator.js';
import { AppError } from '../../common/errors/app-error.js';
import { OidcClients } from '../../oidc/oidc-clients.service.js';

/** RFC 6749 §2.3.1: client_id and secret are form-encoded, then joined and base64-encoded. */
function basicCredentials(header: string): { id: string; secret: string } | null {
  const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) {
    return null;
  }
  try {
    const unform = (text: string) => decodeURIComponent(text.replace(/\+/g, '%20'));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * For routes marked @AllowClientCredentials(): a request with HTTP Basic is let in only with the
 * credentials of a confidential OpenID Connect client; others went through the usual guards.
 */
@Injectable()
export class ClientCredentialsGuard implements CanActivate {
  constructor(private readonly moduleRef: ModuleRef) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    const header = request.headers.authorization;
    if (request.user || !isBasicAuthorization(header)) {
      return true;
    }
    const credentials = basicCredentials(header!);
    // The clients live in the OpenID Connect module, which itself builds on this one.
    const clients = this.moduleRef.get(OidcClients, { strict: false });
    const client = credentials
      ? await clients.authenticate(credentials.id, credentials.secret)
      : null;
    if (!client) {
      throw new AppError('UNAUTHORIZED', 'The client credentials are not valid.', {
        headers: { 'WWW-Authenticate': 'Basic realm="portcullis"' },
      });
    }
    return true;
  }
}
