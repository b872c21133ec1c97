import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import Handlebars from 'handlebars';
import { registerI18nHelpers } from './i18n-helpers.js';
import { I18n } from './i18n.service.js';
import { LOCALES } from './locales.js';

const i18n = new I18n('en');
const TEMPLATE_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

/** Every `{{t "key"}}` and `(t "key")` of every page and mail template. */
function templateKeys(): Map<string, string> {
  const found = new Map<string, string>();
  const files = readdirSync(TEMPLATE_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.hbs'),
  );
  for (const file of files) {
    const source = readFileSync(join(TEMPLATE_DIR, file), 'utf8');
    for (const match of source.matchAll(/[{(]t\s+"([^"]+)"/g)) {
      found.set(match[1], file);
    }
  }
  return found;
}

describe('the catalogues (templates/locales/*.json)', () => {
  it('hold the same keys in every language', () => {
    const english = i18n.keys('en').sort();
    expect(english.length).toBeGreaterThan(0);
    for (const locale of LOCALES) {
      expect(i18n.keys(locale).sort()).toEqual(english);
    }
  });

  it('give every translation the placeholders and tags of the English message', () => {
    for (const locale of LOCALES) {
      for (const key of i18n.keys('en')) {
        expect({ key, names: i18n.placeholders(locale, key) }).toEqual({
          key,
          names: i18n.placeholders('en', key),
        });
      }
    }
  });

  it('hold every key a template uses', () => {
    const keys = templateKeys();
    expect(keys.size).toBeGreaterThan(0);
    for (const locale of LOCALES) {
      const known = new Set(i18n.keys(locale));
      const missing = [...keys].filter(([key]) => !known.has(key)).map(([k, f]) => `${f}: ${k}`);
      expect({ locale, missing }).toEqual({ locale, missing: [] });
    }
  });
});

describe('I18n', () => {
  it('translates a key into each language', () => {
    expect(i18n.t('en', 'layout.signOut')).toBe('Sign out');
    expect(i18n.t('zh-CN', 'layout.signOut')).toBe('退出登录');
  });

  it('refuses a key that no catalogue holds', () => {
    expect(() => i18n.t('en', 'no.such.key')).toThrow(/no message "no\.such\.key"/);
  });

  it('writes durations and dates in the language', () => {
    expect(i18n.duration('en', 300)).toBe('5 minutes');
    expect(i18n.duration('zh-CN', 300)).toBe('5分钟');
    expect(i18n.duration('en', 86_400)).toBe('1 day');
    expect(i18n.duration('en', 60)).toBe('1 minute');
    expect(i18n.duration('zh-CN', 7_200)).toBe('2小时');
    expect(i18n.duration('en', 90)).toBe('90 seconds');
    const day = new Date('2026-03-05T23:30:00Z');
    expect(i18n.date('en', day)).toBe('March 5, 2026');
    expect(i18n.date('zh-CN', day)).toBe('2026年3月5日');
  });
});

describe('the {{t}} helper', () => {
  const handlebars = Handlebars.create();
  registerI18nHelpers(handlebars, i18n);
  const render = (source: string, data: object, noEscape = false): string =>
    handlebars.compile(source, { strict: true, noEscape })(data);

  it('speaks the language of @root.locale, inside partials and loops too', () => {
    handlebars.registerPartial('out', '<b>{{t "layout.signOut"}}</b>');
    const source = '{{#each items}}{{> out}}{{/each}}';
    expect(render(source, { locale: 'zh-CN', items: [1, 2] })).toBe(
      '<b>退出登录</b><b>退出登录</b>',
    );
    expect(render(source, { locale: 'en', items: [1] })).toBe('<b>Sign out</b>');
  });

  it('escapes the values it is given in HTML, not in a text mail', () => {
    const source = '{{t "layout.forIssuer" issuer=name}}';
    expect(render(source, { locale: 'en', name: '<i>Acme</i> & co' })).toBe(
      'for &lt;i&gt;Acme&lt;/i&gt; &amp; co',
    );
    // Text mails are compiled with noEscape, and say plainText.
    expect(render(source, { locale: 'en', plainText: true, name: '<i>Acme</i> & co' }, true)).toBe(
      'for <i>Acme</i> & co',
    );
  });

  it('refuses to render without a supported locale', () => {
    expect(() => render('{{t "layout.signOut"}}', { locale: 'fr' })).toThrow(/locale/);
  });
});
