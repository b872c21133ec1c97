import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { IsInt, validateSync } from 'class-validator';
import { INVISIBLE_CHARACTERS, QueryInteger, UNSAFE_IN_EMAIL } from './field-rules.js';

describe('INVISIBLE_CHARACTERS', () => {
  it.each([
    ['NUL', 'a\u0000b'],
    ['CR LF', 'a\r\nb'],
    ['tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['right-to-left override', 'evil\u202Egpj.exe'],
    ['first strong isolate', 'a\u2068b'],
    ['zero-width space', 'a\u200Bb'],
    ['zero-width joiner', 'a\u200Db'],
    ['byte order mark', '\uFEFFalice'],
    ['line separator', 'a\u2028b'],
  ])('finds a %s', (_name, text) => {
    expect(INVISIBLE_CHARACTERS.test(text)).toBe(true);
  });

  it.each(['alice', 'alice@example.com', 'josé@exämple.com', '用户@例子.广告', 'a b'])(
    'lets %j through',
    (text) => {
      expect(INVISIBLE_CHARACTERS.test(text)).toBe(false);
    },
  );
});

describe('UNSAFE_IN_EMAIL', () => {
  it.each([
    '\uFF41@example.com',
    'a@\uFF45xample.com',
    'a\u00A0b@example.com',
    'a b@x.com',
    'a\u3000@x.com',
    'a\u202E@x.com',
  ])('finds the unsafe character in %j', (text) => {
    expect(UNSAFE_IN_EMAIL.test(text)).toBe(true);
  });

  it.each(['alice@example.com', 'josé@exämple.com', '用户@例子.广告'])(
    'lets %j through',
    (text) => {
      expect(UNSAFE_IN_EMAIL.test(text)).toBe(false);
    },
  );
});

describe('QueryInteger', () => {
  class Query {
    @QueryInteger() @IsInt() page?: unknown;
  }
  const read = (page: unknown) => plainToInstance(Query, { page }).page;

  it.each([
    ['1', 1],
    ['42', 42],
    ['007', 7],
  ])('reads %j as %p', (text, value) => {
    expect(read(text)).toBe(value);
  });

  it.each(['0x10', '1e3', ' 1', '1 ', '+1', '-1', '1.0', '1_000', '', 'Infinity', '١٢'])(
    'leaves %j as text, so @IsInt refuses it',
    (text) => {
      expect(read(text)).toBe(text);
      expect(validateSync(plainToInstance(Query, { page: text }))).toHaveLength(1);
    },
  );

  it('leaves a repeated parameter (an array) as it came', () => {
    expect(read(['1', '2'])).toEqual(['1', '2']);
  });
});
