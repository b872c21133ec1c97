import { describe, expect, it } from '@jest/globals';
import { IsBoolean, IsOptional, IsString } from 'class-validator';
import {
  illFormedStrings,
  MAX_LISTED_PROBLEMS,
  precheck,
  undeclaredOrNullFields,
} from './input-checks.js';
import { Nullable } from './nullable.decorator.js';

class BaseDto {
  @IsString() name!: string;
}

class SampleDto extends BaseDto {
  @IsOptional() @IsBoolean() disabled?: boolean;
  @IsOptional() @Nullable() @IsString() email?: string | null;
}

const fieldsOf = (problems: { field: string }[]) => problems.map((p) => p.field);

describe('illFormedStrings', () => {
  it('accepts well-formed text, surrogate pairs included', () => {
    expect(illFormedStrings({ a: 'emoji 😀', b: ['中文', { c: 'x' }], d: 1, e: null })).toEqual([]);
  });

  it.each(['\ud800', '\udfff', 'a\ud83db', 'end\ud83d'])('names a field holding %j', (text) => {
    expect(illFormedStrings({ ok: 'x', password: text })).toEqual([
      { field: 'password', rule: 'isWellFormed', message: expect.stringContaining('password') },
    ]);
  });

  it('looks into arrays and objects, and at keys', () => {
    const problems = illFormedStrings({ roles: ['ok', '\ud800'], nested: { ['k\udc00']: 1 } });
    expect(fieldsOf(problems).sort()).toEqual(['nested.k\ufffd', 'roles.1']);
  });

  it('checks a bare string value too', () => {
    expect(fieldsOf(illFormedStrings('\ud800'))).toEqual(['body']);
  });

  it(`lists at most ${MAX_LISTED_PROBLEMS} fields`, () => {
    const body = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, '\ud800']));
    expect(illFormedStrings(body)).toHaveLength(MAX_LISTED_PROBLEMS);
  });
});

describe('undeclaredOrNullFields', () => {
  it('accepts declared fields, inherited ones included, and null where nullable', () => {
    expect(undeclaredOrNullFields({ name: 'a', disabled: true, email: null }, SampleDto)).toEqual(
      [],
    );
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'isAdmin'])(
    'refuses the undeclared key %s',
    (key) => {
      const body = JSON.parse(`{"name":"a",${JSON.stringify(key)}:1}`) as Record<string, unknown>;
      expect(undeclaredOrNullFields(body, SampleDto)).toEqual([
        { field: key, rule: 'whitelistValidation', message: `${key} is not an accepted field` },
      ]);
    },
  );

  it('refuses null for a field that is not nullable, optional or not', () => {
    expect(undeclaredOrNullFields({ name: null, disabled: null }, SampleDto)).toEqual([
      { field: 'name', rule: 'notNull', message: 'name must not be null' },
      { field: 'disabled', rule: 'notNull', message: 'disabled must not be null' },
    ]);
  });
});

describe('precheck', () => {
  it('names the top-level keys it found problems in, so the libraries check only the others', () => {
    const { problems, keys } = precheck(
      { name: 'ok', disabled: null, email: ['\ud800'], toString: 'x' },
      SampleDto,
    );
    expect(fieldsOf(problems)).toEqual(['email.0', 'disabled', 'toString']);
    expect([...(keys ?? [])].sort()).toEqual(['disabled', 'email', 'toString']);
  });

  it('reports an ill-formed key once, not also as unknown', () => {
    const { problems } = precheck({ ['\udc00']: 1 }, SampleDto);
    expect(problems).toEqual([expect.objectContaining({ field: '\ufffd', rule: 'isWellFormed' })]);
  });

  it('finds nothing in a good body', () => {
    expect(precheck({ name: 'a', email: null }, SampleDto)).toEqual({
      problems: [],
      keys: new Set(),
    });
  });

  it('takes a bare ill-formed value as a whole', () => {
    expect(precheck('\ud800', SampleDto).keys).toBeUndefined();
  });
});
