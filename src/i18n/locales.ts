/** The languages of the pages and mails. Add a language here and add `templates/locales/<code>.json`. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** The name of each language in itself, for the language switcher. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };

/** The cookie that remembers a language picked with `?lang=` (not secret; not a session). */
export const LANG_COOKIE = 'portcullis_lang';
/** The query parameter that picks a language on any page. */
export const LANG_QUERY = 'lang';

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The supported language a BCP 47 tag names, or null. English in any region is `en`; Chinese
 * without a script or region, in Simplified script or in a region that writes it (`zh`, `zh-CN`,
 * `zh-Hans`, `zh-Hans-CN`, `zh-SG`) is `zh-CN`. Traditional Chinese (`zh-TW`, `zh-Hant`, `zh-HK`)
 * is not supported: it falls through to the next source.
 */
export function localeOf(tag: string): Locale | null {
  const parts = tag.trim().toLowerCase().split(/[-_]/);
  if (parts.length > 4 || parts.some((part) => !/^[a-z0-9]{1,8}$/.test(part))) {
    return null;
  }
  if (parts[0] === 'en') {
    return 'en';
  }
  if (parts[0] !== 'zh') {
    return null;
  }
  const rest = parts.slice(1);
  if (rest.includes('hant')) {
    return null;
  }
  if (rest.length === 0 || rest.includes('hans') || ['cn', 'sg'].includes(rest[0])) {
    return 'zh-CN';
  }
  return null;
}

/** The first supported language of an Accept-Language header, by quality, or null. */
export function localeFromAcceptLanguage(header: string | undefined): Locale | null {
  if (!header || header.length > 1024) {
    return null;
  }
  const ranges = header
    .split(',')
    .slice(0, 32)
    .map((entry, index) => {
      const [tag, ...params] = entry.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)).find(Boolean);
      return { tag, q: q ? Number(q[1]) : 1, index };
    })
    .filter((range) => range.q > 0 && range.tag !== '' && range.tag !== '*')
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const range of ranges) {
    const locale = localeOf(range.tag);
    if (locale) {
      return locale;
    }
  }
  return null;
}

/** Where a page's language may come from, in the contract's order. */
export interface LocaleSources {
  /** `?lang=` on this request. */
  query?: unknown;
  /** The cookie a previous `?lang=` left. */
  cookie?: string;
  /** The signed-in user's `locale`. */
  user?: string | null;
  acceptLanguage?: string;
  /** DEFAULT_LOCALE. */
  fallback: Locale;
}

/** `?lang=`, then its cookie, then the user's locale, then Accept-Language, then the default. */
export function resolveLocale(sources: LocaleSources): Locale {
  const picked = typeof sources.query === 'string' ? localeOf(sources.query) : null;
  return (
    picked ??
    (sources.cookie ? localeOf(sources.cookie) : null) ??
    (isLocale(sources.user) ? sources.user : null) ??
    localeFromAcceptLanguage(sources.acceptLanguage) ??
    sources.fallback
  );
}
