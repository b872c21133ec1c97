import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyView from '@fastify/view';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { onRequestHookHandler, preParsingHookHandler, RouteOptions } from 'fastify';
import helmet from 'helmet';
import { ConfigService } from '@nestjs/config';
import Handlebars from 'handlebars';
import { AppError } from '../common/errors/app-error.js';
import type { Settings } from '../config/settings.js';
import { registerI18nHelpers } from '../i18n/i18n-helpers.js';
import { I18n } from '../i18n/i18n.service.js';
import { rememberLanguageChoice } from '../i18n/request-locale.js';
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

/** helmet's headers for a page; a page a mailed link opens sends no Referer onwards. */
function pageSecurityHeaders(mailedLink: boolean): ReturnType<typeof helmet> {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    referrerPolicy: { policy: mailedLink ? 'no-referrer' : 'same-origin' },
  });
}

/**
 * Fastify plugins of the hosted pages: cookies, the Handlebars view engine, helmet headers and
 * form bodies. Form bodies are parsed for page routes only: the JSON API keeps answering 415.
 *
 * What only pages need is attached to each page route as it is registered (an `onRoute` hook),
 * not run as a global hook that asks on every API request whether it is a page: the API's hot
 * paths (/api/v1/me, introspection) pay nothing for the pages.
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
        'admin-locale': 'partials/admin-locale.hbs',
      },
    },
  });
  fastify.addHook('onRoute', (route) => {
    if (isPagePath(route.url)) {
      addRouteHook(route, 'onRequest', pageHooks(isMailedLinkPath(route.url), secure));
    } else if (!route.url.startsWith('/oidc/')) {
      // The OpenID Provider (/oidc/…) reads its own form bodies (token, revocation, logout).
      addRouteHook(route, 'preParsing', refuseFormBody);
    }
  });
}

/** Security headers, no caching and a remembered `?lang=`: every page, before its handler. */
const pageHookCache = new Map<string, onRequestHookHandler>();
function pageHooks(mailedLink: boolean, secure: boolean): onRequestHookHandler {
  const key = `${mailedLink}:${secure}`;
  let hook = pageHookCache.get(key);
  if (!hook) {
    const headers = pageSecurityHeaders(mailedLink);
    hook = function pageHeaders(request, reply, done) {
      // `?lang=` on any page is remembered in a cookie for the pages after it.
      rememberLanguageChoice(request, reply, secure);
      void reply.header('cache-control', 'no-store');
      // Sets the headers on the raw response at once (helmet never fails or waits).
      headers(request.raw, reply.raw, () => done());
    };
    pageHookCache.set(key, hook);
  }
  return hook;
}

/** Before any body is read: a form body anywhere but a page (or the OpenID Provider) is refused. */
const refuseFormBody: preParsingHookHandler = (request, _reply, payload, done) => {
  const type = request.headers['content-type'];
  if (type !== undefined && type.toLowerCase().startsWith(FORM)) {
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.'));
    return;
  }
  done(null, payload);
};

/**
 * Adds a route-level hook, once: Fastify registers a GET route's HEAD twin from the same options,
 * so the hook may already be there.
 */
function addRouteHook(
  route: RouteOptions,
  name: 'onRequest' | 'preParsing',
  hook: onRequestHookHandler | preParsingHookHandler,
): void {
  const existing: unknown = route[name];
  const hooks: unknown[] = Array.isArray(existing) ? existing : existing ? [existing] : [];
  if (!hooks.includes(hook)) {
    Object.assign(route, { [name]: [...hooks, hook] });
  }
}
