import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyView from '@fastify/view';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ConfigService } from '@nestjs/config';
import Handlebars from 'handlebars';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { registerI18nHelpers } from '../i18n/i18n-helpers.js';
import { I18n } from '../i18n/i18n.service.js';
import { rememberLanguageOn } from '../i18n/request-locale.js';
import { TEMPLATE_ROOT } from '../project-root.js';

/** templates/pages at the project's top level (src/project-root.ts). */
export const PAGE_TEMPLATE_DIR = join(TEMPLATE_ROOT, 'pages');

const FORM = 'application/x-www-form-urlencoded';

/** The hosted pages' paths; everything else is the JSON API (or docs, health, metrics). */
export function isPagePath(url: string | undefined): boolean {
  if (url === undefined) {
    return false;
  }
  const path = url.split('?')[0];
  return (
    path === '/' ||
    [
      '/login',
      '/logout',
      '/forgot-password',
      '/reset-password',
      '/verify-email',
      '/account',
      '/assets/',
      '/interaction',
      '/admin',
    ].some(
      (prefix) => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`),
    )
  );
}

/**
 * The pages a mailed link opens (reset, email confirmation): they hold a token in the URL, so
 * they never send a Referer onwards.
 */
export function isMailedLinkPath(url: string | undefined): boolean {
  return url !== undefined && /^\/(reset-password|verify-email)(\/|\?|$)/.test(url);
}

/** The strict policy of every page: nothing from another origin, no script, no framing. */
const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  // The authenticator QR code is an inline PNG (data: URL) made by the server.
  imgSrc: ["'self'", 'data:'],
  scriptSrc: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * Fastify plugins of the hosted pages: cookies, the Handlebars view engine, helmet headers and
 * form bodies. Form bodies are parsed for page routes only: the JSON API keeps answering 415.
 */
export function configurePages(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const handlebars = Handlebars.create();
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  // {{t "key" name=value}}, {{date …}}, {{duration …}} in the language of `@root.locale`.
  registerI18nHelpers(handlebars, app.get(I18n));
  const secure = app
    .get<ConfigService<Settings, true>>(ConfigService)
    .get('http', { infer: true })
    .publicUrl.startsWith('https:');
  void fastify.register(fastifyCookie);
  void fastify.register(fastifyFormbody);
  void fastify.register(fastifyView, {
    engine: { handlebars },
    root: PAGE_TEMPLATE_DIR,
    layout: 'layouts/main.hbs',
    viewExt: 'hbs',
    production: true,
    options: {
      partials: {
        field: 'partials/field.hbs',
        messages: 'partials/messages.hbs',
        csrf: 'partials/csrf.hbs',
        'admin-nav': 'partials/admin-nav.hbs',
        'admin-pager': 'partials/admin-pager.hbs',
        'admin-events': 'partials/admin-events.hbs',
        'admin-textarea': 'partials/admin-textarea.hbs',
      },
    },
  });
  void fastify.register(fastifyHelmet, { global: false });
  // `?lang=` on any page is remembered in a cookie for the pages after it.
  rememberLanguageOn(fastify, isPagePath, secure);
  // Before any body is read: a form body anywhere but a page is refused, as before.
  fastify.addHook('preParsing', (request: FastifyRequest, _reply, payload, done) => {
    const type = request.headers['content-type'] ?? '';
    // The OpenID Provider (/oidc/…) reads its own form bodies (token, revocation, logout).
    const url = request.routeOptions.url;
    if (type.toLowerCase().startsWith(FORM) && !isPagePath(url) && !url?.startsWith('/oidc/')) {
      done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.'));
      return;
    }
    done(null, payload);
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!isPagePath(request.routeOptions.url ?? undefined)) {
      done();
      return;
    }
    // Sets the headers on the raw response at once (no promise to wait for).
    reply.helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
      referrerPolicy: {
        policy: isMailedLinkPath(request.url) ? 'no-referrer' : 'same-origin',
      },
    });
    void reply.header('cache-control', 'no-store');
    done();
  });
}
