import { describe, expect, it } from '@jest/globals';
import { localeFromAcceptLanguage, localeOf, resolveLocale } from './locales.js';

describe('localeOf', () => {
  it.each([
    ['en', 'en'],
    ['en-US', 'en'],
    ['EN-gb', 'en'],
    ['zh', 'zh-CN'],
    ['zh-CN', 'zh-CN'],
    ['zh-cn', 'zh-CN'],
    ['zh-Hans', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['zh-SG', 'zh-CN'],
  ])('reads %s as %s', (tag, locale) => {
    expect(localeOf(tag)).toBe(locale);
  });

  it.each(['zh-TW', 'zh-Hant', 'zh-Hant-HK', 'zh-HK', 'fr', 'de-DE', '', '*', 'x'.repeat(20)])(
    'does not support %s',
    (tag) => {
      expect(localeOf(tag)).toBeNull();
    },
  );
});

describe('localeFromAcceptLanguage', () => {
  it('takes the best supported language by quality, skipping unsupported ones', () => {
    expect(localeFromAcceptLanguage('fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7')).toBe('zh-CN');
    expect(localeFromAcceptLanguage('en;q=0.5, zh-Hans;q=0.6')).toBe('zh-CN');
    expect(localeFromAcceptLanguage('zh-TW,en-US;q=0.8')).toBe('en');
    expect(localeFromAcceptLanguage('de, zh-CN;q=0')).toBeNull();
    expect(localeFromAcceptLanguage('*')).toBeNull();
    expect(localeFromAcceptLanguage(undefined)).toBeNull();
  });
});

describe('resolveLocale', () => {
  const all = {
    query: 'zh-CN',
    cookie: 'en',
    user: 'zh-CN',
    acceptLanguage: 'en',
    fallback: 'en' as const,
  };

  it('follows ?lang=, then its cookie, then the user, then Accept-Language, then the default', () => {
    expect(resolveLocale(all)).toBe('zh-CN');
    expect(resolveLocale({ ...all, query: undefined })).toBe('en');
    expect(resolveLocale({ ...all, query: undefined, cookie: undefined })).toBe('zh-CN');
    expect(resolveLocale({ ...all, query: undefined, cookie: undefined, user: null })).toBe('en');
    expect(
      resolveLocale({ fallback: 'zh-CN', acceptLanguage: 'fr', user: null, cookie: 'xx' }),
    ).toBe('zh-CN');
  });

  it('lets an unsupported ?lang= or a query array fall through to the next source', () => {
    expect(resolveLocale({ ...all, query: 'fr', cookie: undefined })).toBe('zh-CN');
    expect(resolveLocale({ ...all, query: ['zh-CN', 'en'], cookie: undefined, user: null })).toBe(
      'en',
    );
  });
});
