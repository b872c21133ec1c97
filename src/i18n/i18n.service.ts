import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { TEMPLATE_ROOT } from '../project-root.js';
import { type Locale, LOCALES } from './locales.js';

/** templates/locales/<code>.json: the words of the templates beside them (src/project-root.ts). */
export const CATALOGUE_DIR = join(TEMPLATE_ROOT, 'locales');

/** What a message's `{placeholders}` take. Plurals and `select`s need numbers and strings. */
export type MessageValues = Record<string, string | number | boolean | Date | null | undefined>;

/** Tags a message may use in HTML (`<b>…</b>`), and the element each becomes. */
const HTML_TAGS: Record<string, (chunks: string, values: MessageValues) => string> = {
  b: (chunks) => `<strong>${chunks}</strong>`,
  em: (chunks) => `<em>${chunks}</em>`,
  code: (chunks) => `<code>${chunks}</code>`,
  // The target is a value of the message (`href`), escaped like every value.
  a: (chunks, values) => `<a href="${escapeHtml(String(values.href ?? '#'))}">${chunks}</a>`,
};

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

/** The same escaping as Handlebars' `{{value}}`. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]);
}

type Catalogue = Map<string, IntlMessageFormat>;

/** Nested catalogue objects to dotted keys: `{ "login": { "title": … } }` → `login.title`. */
function flatten(tree: unknown, prefix: string, into: Map<string, string>, file: string): void {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) {
    throw new Error(`${file}: "${prefix}" must be an object of messages`);
  }
  for (const [name, value] of Object.entries(tree)) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) {
      throw new Error(`${file}: "${prefix}${name}" is not a valid key segment`);
    }
    const key = `${prefix}${name}`;
    if (typeof value === 'string') {
      into.set(key, value);
    } else {
      flatten(value, `${key}.`, into, file);
    }
  }
}

/**
 * The messages of every language, from one ICU MessageFormat catalogue per language
 * (`templates/locales/<code>.json`), compiled once at start with FormatJS's intl-messageformat: a message
 * that does not parse stops the start. `t` gives plain text (mail text parts, titles, anything
 * handed to Handlebars as a value, which escapes it); `html` escapes the values and turns the
 * few tags of HTML_TAGS into elements (the `{{t}}` helper in HTML templates).
 */
export class I18n {
  private readonly catalogues = new Map<Locale, Catalogue>();

  constructor(
    readonly defaultLocale: Locale = 'en',
    dir: string = CATALOGUE_DIR,
  ) {
    for (const locale of LOCALES) {
      const file = join(dir, `${locale}.json`);
      const flat = new Map<string, string>();
      flatten(JSON.parse(readFileSync(file, 'utf8')) as unknown, '', flat, file);
      const catalogue: Catalogue = new Map();
      for (const [key, source] of flat) {
        try {
          catalogue.set(key, new IntlMessageFormat(source, locale));
        } catch (error) {
          throw new Error(`${file}: "${key}" is not a valid ICU message: ${String(error)}`, {
            cause: error,
          });
        }
      }
      this.catalogues.set(locale, catalogue);
    }
  }

  /** Every key of a language's catalogue. */
  keys(locale: Locale): string[] {
    return [...this.catalogue(locale).keys()];
  }

  /** The names of a message's placeholders and tags, for checking translations against English. */
  placeholders(locale: Locale, key: string): string[] {
    const names = new Set<string>();
    const walk = (elements: unknown[]): void => {
      for (const element of elements as {
        type: number;
        value?: unknown;
        options?: Record<string, { value: unknown[] }>;
        children?: unknown[];
      }[]) {
        // 0 literal and 7 `#` have no name; the others (argument, number, date, time, select,
        // plural, tag) name a value.
        if (element.type !== 0 && element.type !== 7 && typeof element.value === 'string') {
          names.add(element.value);
        }
        for (const option of Object.values(element.options ?? {})) {
          walk(option.value);
        }
        walk(element.children ?? []);
      }
    };
    walk(this.message(locale, key).getAst());
    return [...names].sort();
  }

  has(key: string): boolean {
    return this.catalogue(this.defaultLocale).has(key);
  }

  /** A message as plain text; a tag in it keeps only its content. Unknown key: an error. */
  t(locale: Locale, key: string, values: MessageValues = {}): string {
    const tags = Object.fromEntries(
      Object.keys(HTML_TAGS).map((tag) => [tag, (chunks: string[]) => chunks.join('')]),
    );
    return join_(this.message(locale, key).format<string>({ ...values, ...tags }));
  }

  /** A message as HTML: its values escaped, its tags turned into elements. */
  html(locale: Locale, key: string, values: MessageValues = {}): string {
    const escaped: MessageValues = Object.fromEntries(
      Object.entries(values).map(([name, value]) => [
        name,
        typeof value === 'string' ? escapeHtml(value) : value,
      ]),
    );
    const tags = Object.fromEntries(
      Object.entries(HTML_TAGS).map(([tag, render]) => [
        tag,
        (chunks: string[]) => render(chunks.join(''), values),
      ]),
    );
    return join_(this.message(locale, key).format<string>({ ...escaped, ...tags }));
  }

  /**
   * A length of time in words, in the largest unit that divides it (as describeDuration does):
   * 300 → "5 minutes" / "5分钟", 86400 → "1 day" / "1天", 90 → "90 seconds" / "90秒钟".
   */
  duration(locale: Locale, seconds: number): string {
    const units: [string, number][] = [
      ['days', 86_400],
      ['hours', 3_600],
      ['minutes', 60],
    ];
    const whole = Math.max(0, Math.round(seconds));
    const [unit, size] = units.find(([, size]) => whole > 0 && whole % size === 0) ?? [
      'seconds',
      1,
    ];
    return new Intl.DurationFormat(locale, { style: 'long' }).format({ [unit]: whole / size });
  }

  /** A day, as people of that language write it: "December 1, 2026" / "2026年12月1日". */
  date(locale: Locale, date: Date): string {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
  }

  private catalogue(locale: Locale): Catalogue {
    const catalogue = this.catalogues.get(locale);
    if (!catalogue) {
      throw new Error(`no catalogue for the language "${locale}"`);
    }
    return catalogue;
  }

  private message(locale: Locale, key: string): IntlMessageFormat {
    const message = this.catalogue(locale).get(key);
    if (!message) {
      throw new Error(`no message "${key}" in the ${locale} catalogue`);
    }
    return message;
  }
}

function join_(formatted: string | string[]): string {
  return Array.isArray(formatted) ? formatted.join('') : formatted;
}
