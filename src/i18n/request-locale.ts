import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  LANG_COOKIE,
  LANG_QUERY,
  type Locale,
  LOCALE_NAMES,
  LOCALES,
  localeOf,
  resolveLocale,
} from './locales.js';

/** A remembered choice lasts a year; picking another language replaces it. */
const LANG_COOKIE_MAX_AGE = 365 * 86_400;

function queryLang(request: FastifyRequest): unknown {
  const query = request.query;
  return typeof query === 'object' && query !== null
    ? (query as Record<string, unknown>)[LANG_QUERY]
    : undefined;
}

/**
 * The language of a page: `?lang=`, the cookie a previous `?lang=` left, the signed-in user's
 * `locale`, Accept-Language, DEFAULT_LOCALE (the contract's order).
 */
export function requestLocale(
  request: FastifyRequest,
  userLocale: string | null | undefined,
  fallback: Locale,
): Locale {
  const header = request.headers['accept-language'];
  return resolveLocale({
    query: queryLang(request),
    cookie: request.cookies?.[LANG_COOKIE],
    user: userLocale,
    acceptLanguage: Array.isArray(header) ? header.join(',') : header,
    fallback,
  });
}

/**
 * Remembers a supported `?lang=` in a cookie for every page after this one (an unsupported
 * value is ignored, and the next source decides). Not secret, but set like the pages' other
 * cookies: HttpOnly, SameSite=Lax, Secure when PUBLIC_URL is https, Path=/.
 */
export function rememberLanguageChoice(
  request: FastifyRequest,
  reply: FastifyReply,
  secure: boolean,
): void {
  const lang = queryLang(request);
  const picked = typeof lang === 'string' ? localeOf(lang) : null;
  if (picked && request.cookies?.[LANG_COOKIE] !== picked) {
    rememberLocale(reply, picked, secure);
  }
}

/** Sets the language cookie (HttpOnly, SameSite=Lax, Secure with https, Path=/, a year). */
export function rememberLocale(reply: FastifyReply, locale: Locale, secure: boolean): void {
  void reply.setCookie(LANG_COOKIE, locale, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: LANG_COOKIE_MAX_AGE,
  });
}

/** The pages that answer a form post, and the page a language link from there should open. */
const AFTER_POST: [RegExp, string][] = [
  [
    /^\/(login|login\/two-factor|forgot-password|reset-password\/two-factor|reset-password\/password|account\/password)$/,
    '$&',
  ],
  [/^\/interaction\/([^/]+)\/.+$/, '/interaction/$1'],
  [/^\/account\/.+$/, '/account'],
  [/^\/reset-password$/, '/forgot-password'],
];

/**
 * Where the language switcher's link for `locale` goes: this page again (its path and query
 * kept, `lang` set) after a GET; after a form post, the page that shows that form (a link
 * cannot post; the CSRF token and reset cookie stay as they are), the home page otherwise.
 */
export function languageHref(request: FastifyRequest, locale: Locale): string {
  const url = new URL(request.url, 'http://page.invalid');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    const rule = AFTER_POST.find(([pattern]) => pattern.test(url.pathname));
    const path = rule ? url.pathname.replace(rule[0], rule[1]) : '/';
    return `${path}?${LANG_QUERY}=${encodeURIComponent(locale)}`;
  }
  url.searchParams.set(LANG_QUERY, locale);
  return `${url.pathname}${url.search}`;
}

/** The switcher of the layout: every language, in its own name, with its link. */
export function languageLinks(
  request: FastifyRequest,
  current: Locale,
): { code: Locale; name: string; href: string; current: boolean }[] {
  return LOCALES.map((code) => ({
    code,
    name: LOCALE_NAMES[code],
    href: languageHref(request, code),
    current: code === current,
  }));
}
