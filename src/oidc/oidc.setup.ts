import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JWKS_MAX_AGE_SECONDS } from '../auth/auth.controller.js';
import { SigningKeys } from '../auth/signing-keys.service.js';
import type { Settings } from '../config/settings.js';
import { PageSessions } from '../pages/page-session.service.js';
import { OIDC_PREFIX, OIDC_ROUTES, OidcProviderService } from './oidc-provider.service.js';

/**
 * Serves the OpenID Provider from the Nest app's Fastify instance: discovery at the root (the
 * issuer is PUBLIC_URL) and every endpoint under /oidc. The provider is a Koa app; each request
 * is handed to it raw (`reply.hijack()`), in a plugin scope without body parsers, so that it
 * reads its own form bodies. Nest's guards, filters and hooks do not run for these routes; what
 * they would add is added here: the request id, no-store by default, and the browser's
 * Portcullis session, which the provider's policies consult.
 */
export function configureOidc(app: NestFastifyApplication, settings: Settings): void {
  const fastify = app.getHttpAdapter().getInstance();
  const oidc = app.get(OidcProviderService);
  const pageSessions = app.get(PageSessions);
  const keys = app.get(SigningKeys);
  const publicUrl = new URL(settings.http.publicUrl);
  oidc.useViews((view, data) => fastify.view(view, data));

  const forward = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let browser: Awaited<ReturnType<PageSessions['load']>>['user'] = null;
    if (request.headers.cookie) {
      browser = (await pageSessions.load(request, reply)).user;
    }
    const raw = request.raw as typeof request.raw & {
      portcullis?: { userId: string; sessionId: string; refreshToken: string };
      clientIp?: string;
    };
    raw.portcullis = browser
      ? { userId: browser.userId, sessionId: browser.sessionId, refreshToken: browser.refreshToken }
      : undefined;
    raw.clientIp = request.ip;
    // The provider builds every URL from these: PUBLIC_URL only, never the Host header. The
    // client address is the one Fastify derived under TRUST_PROXY (the same as everywhere).
    raw.headers['x-forwarded-proto'] = publicUrl.protocol.replace(':', '');
    raw.headers['x-forwarded-host'] = publicUrl.host;
    raw.headers['x-forwarded-for'] = request.ip;
    reply.hijack();
    reply.raw.setHeader('x-request-id', request.id);
    reply.raw.setHeader('cache-control', 'no-store');
    await oidc.handle(raw, reply.raw);
  };

  void fastify.register((scope, _options, done) => {
    // The provider parses its own bodies (token, revocation and logout forms).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null, undefined));
    scope.get('/.well-known/openid-configuration', forward);
    // One JWKS: the same keys, and the same caching, as /.well-known/jwks.json.
    scope.get(OIDC_ROUTES.jwks, async (_request, reply) => {
      return reply
        .header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
        .send(keys.jwks());
    });
    scope.all(`${OIDC_PREFIX}/*`, forward);
    done();
  });
}
