import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JWKS_MAX_AGE_SECONDS } from '../auth/auth.controller.js';
import { SigningKeys } from '../auth/signing-keys.service.js';
import type { Settings } from '../config/settings.js';
import { PageSessions } from '../pages/page-session.service.js';
import { OIDC_PREFIX, OIDC_ROUTES } from './oidc-http.js';
import { type PageLanguageCarrier, OidcProviderService } from './oidc-provider.service.js';
import { languageLinks, requestLocale } from '../i18n/request-locale.js';

type Method = 'GET' | 'POST' | 'OPTIONS';

/** The provider's endpoints that are on (anything else under /oidc is our usual 404). */
const PROVIDER_ROUTES: [Method[], string][] = [
  [['GET', 'OPTIONS'], '/.well-known/openid-configuration'],
  [['GET', 'POST'], OIDC_ROUTES.authorization],
  [['GET'], `${OIDC_ROUTES.authorization}/:uid`],
  [['POST', 'OPTIONS'], OIDC_ROUTES.token],
  [['GET', 'POST', 'OPTIONS'], OIDC_ROUTES.userinfo],
  [['POST', 'OPTIONS'], OIDC_ROUTES.revocation],
  [['GET', 'POST'], OIDC_ROUTES.end_session],
  [['POST'], `${OIDC_ROUTES.end_session}/confirm`],
  [['GET'], `${OIDC_ROUTES.end_session}/success`],
];

/** The OpenID Connect protocol's own paths: described by discovery, not by the OpenAPI document. */
export function isOidcProtocolPath(path: string): boolean {
  return path === '/.well-known/openid-configuration' || path.startsWith(`${OIDC_PREFIX}/`);
}

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
  // The provider's own pages (logout, its errors) carry the request's language (pageLanguage,
  // set below); DEFAULT_LOCALE only if a page is ever rendered without it.
  oidc.useViews((view, data) =>
    fastify.view(view, { locale: settings.i18n.defaultLocale, ...data }),
  );

  const forward = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let browser: Awaited<ReturnType<PageSessions['load']>>['user'] = null;
    if (request.headers.cookie) {
      browser = (await pageSessions.load(request, reply)).user;
    }
    const raw = request.raw as typeof request.raw & {
      portcullis?: { userId: string; sessionId: string; refreshToken: string };
      clientIp?: string;
    } & PageLanguageCarrier;
    // The provider's own pages (sign-out, errors) speak the language the other pages would.
    const locale = requestLocale(request, browser?.locale, settings.i18n.defaultLocale);
    raw.pageLanguage = { locale, languages: languageLinks(request, locale) };
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
    // One JWKS: the same keys, and the same caching, as /.well-known/jwks.json.
    scope.get(OIDC_ROUTES.jwks, async (_request, reply) => {
      return reply
        .header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
        .send(keys.jwks());
    });
    for (const [method, path] of PROVIDER_ROUTES) {
      scope.route({ method, url: path, handler: forward });
    }
    done();
  });
}
