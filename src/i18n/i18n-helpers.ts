import type { HelperOptions } from 'handlebars';
import type Handlebars from 'handlebars';
import type { I18n, MessageValues } from './i18n.service.js';
import { isLocale, type Locale } from './locales.js';

/**
 * What a template's root data carries for the helpers: the language (every page and mail) and,
 * for the text part of a mail, `plainText` (no HTML, no escaping).
 */
export interface LocalizedData {
  locale: Locale;
  plainText?: boolean;
}

function rootOf(options: HelperOptions, helper: string): LocalizedData {
  const root = (options.data as { root?: Partial<LocalizedData> } | undefined)?.root;
  if (!root || !isLocale(root.locale)) {
    throw new Error(`{{${helper}}}: the template's data has no supported "locale"`);
  }
  return { locale: root.locale, plainText: root.plainText === true };
}

/**
 * The helper's hash as message values. A value that is missing from the template's data is an
 * error, as in strict mode (which does not check a helper's parameters itself).
 */
function valuesOf(hash: Record<string, unknown>, key: string): MessageValues {
  const missing = Object.keys(hash).filter((name) => hash[name] === undefined);
  if (missing.length > 0) {
    throw new Error(`{{t "${key}"}}: no value for ${missing.map((m) => `"${m}"`).join(', ')}`);
  }
  return Object.fromEntries(
    Object.entries(hash).map(([name, value]) => [
      name,
      typeof value === 'number' || typeof value === 'boolean' || value instanceof Date
        ? value
        : value === null || value === undefined
          ? value
          : String(value as string),
    ]),
  );
}

/**
 * The template helpers of a Handlebars instance (pages and mails):
 * - `{{t "pages.login.title"}}`, `{{t "mail.greeting" name=username}}`: a message of the
 *   catalogue in the language of `@root.locale`; in HTML its values are escaped and its tags
 *   (`<b>`, `<em>`, `<code>`, `<a>` with `href=`) become elements; in a text mail
 *   (`@root.plainText`) it is plain text.
 * - `{{date someDate}}`: a day in that language ("December 1, 2026", "2026年12月1日").
 * - `{{duration seconds}}`: a length of time in that language ("5 minutes", "5分钟").
 * An unknown key or a missing locale is an error, like a missing variable in strict mode.
 */
export function registerI18nHelpers(handlebars: typeof Handlebars, i18n: I18n): void {
  handlebars.registerHelper('t', function (key: unknown, options: HelperOptions) {
    if (typeof key !== 'string') {
      throw new Error('{{t}} needs a message key: {{t "some.key" name=value}}');
    }
    const { locale, plainText } = rootOf(options, `t "${key}"`);
    const values = valuesOf(options.hash as Record<string, unknown>, key);
    return plainText
      ? i18n.t(locale, key, values)
      : new handlebars.SafeString(i18n.html(locale, key, values));
  });
  handlebars.registerHelper('date', function (value: unknown, options: HelperOptions) {
    const { locale } = rootOf(options, 'date');
    const date = value instanceof Date ? value : new Date(String(value));
    return i18n.date(locale, date);
  });
  handlebars.registerHelper('duration', function (value: unknown, options: HelperOptions) {
    const { locale } = rootOf(options, 'duration');
    return i18n.duration(locale, Number(value));
  });
}
