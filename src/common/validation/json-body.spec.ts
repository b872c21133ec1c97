import { describe, expect, it } from '@jest/globals';
import { AppError } from '../errors/app-error.js';
import {
  jsonNestingExceeds,
  MAX_JSON_DEPTH,
  parseJsonBody,
  prototypeKeyPaths,
} from './json-body.js';

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

function refusal(text: string): AppError {
  try {
    parseJsonBody(text);
  } catch (error) {
    if (error instanceof AppError) {
      return error;
    }
    throw error;
  }
  throw new Error(`parseJsonBody accepted ${text.slice(0, 60)}`);
}

describe('jsonNestingExceeds', () => {
  it('counts objects and arrays alike', () => {
    expect(jsonNestingExceeds('{"a":[{"b":[]}]}', 4)).toBe(false);
    expect(jsonNestingExceeds('{"a":[{"b":[]}]}', 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[[\\"', c: '"]]]]' });
    expect(jsonNestingExceeds(text, 1)).toBe(false);
  });

  it('counts depth, not the number of brackets', () => {
    const wide = `[${Array.from({ length: 1000 }, () => '[]').join(',')}]`;
    expect(jsonNestingExceeds(wide, 2)).toBe(false);
  });
});

describe('parseJsonBody', () => {
  it(`reads a body nested ${MAX_JSON_DEPTH} levels deep`, () => {
    expect(parseJsonBody(`{"a":${nested(MAX_JSON_DEPTH - 1)}}`)).toEqual({ a: expect.any(Array) });
  });

  it(`refuses a body nested ${MAX_JSON_DEPTH + 1} levels deep as MALFORMED_REQUEST`, () => {
    expect(refusal(`{"a":${nested(MAX_JSON_DEPTH)}}`)).toMatchObject({
      code: 'MALFORMED_REQUEST',
      detail: expect.stringContaining('32 levels'),
    });
  });

  it('refuses a body nested thousands of levels deep without recursing into it', () => {
    expect(refusal(nested(60_000)).code).toBe('MALFORMED_REQUEST');
  });

  it('refuses text that is not JSON as MALFORMED_REQUEST', () => {
    expect(refusal('{"a": ').code).toBe('MALFORMED_REQUEST');
  });

  it('skips a leading byte order mark', () => {
    expect(parseJsonBody('\ufeff{"a":1}')).toEqual({ a: 1 });
  });

  it.each([
    ['{"__proto__":{"admin":true}}', '__proto__'],
    ['{"a":{"__proto__":{}}}', 'a.__proto__'],
    ['{"\\u005f_proto__":{}}', '__proto__'],
    ['{"a":[{"constructor":{"prototype":{"x":1}}}]}', 'a.0.constructor'],
    ['{"prototype":1}', 'prototype'],
  ])('refuses %s as an unknown field %s, before anything copies it', (text, field) => {
    const error = refusal(text);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.errors?.[0]).toEqual({
      field,
      rule: 'whitelistValidation',
      message: `${field} is not an accepted field`,
    });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('prototypeKeyPaths', () => {
  it('finds nothing in an ordinary body', () => {
    expect(prototypeKeyPaths(JSON.parse('{"username":"a","roles":["x"],"n":null}'))).toEqual([]);
  });
});
