import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * Characters no name a person types holds: controls (C0, DEL, C1: NUL, CR, LF, ESC…), format
 * characters (bidi overrides and isolates such as U+202E, zero-width characters, the BOM) and
 * the line and paragraph separators. They hide or reorder text in logs, mails and admin screens.
 */
export const INVISIBLE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * In an email address also every space and the halfwidth and fullwidth forms (U+FF00–U+FFEF):
 * `ａ@example.com` looks like `a@example.com` and is another address.
 */
export const UNSAFE_IN_EMAIL = /[\p{Cc}\p{Cf}\p{Z}\uFF00-\uFFEF]/u;

export const INVISIBLE_CHARACTERS_RULE =
  'no control, format (bidi, zero-width) or line-separator characters';
export const EMAIL_CHARACTERS_RULE = `${INVISIBLE_CHARACTERS_RULE}, no spaces and no fullwidth forms (U+FF00–U+FFEF)`;

/** A sign-in name or identifier: refuses INVISIBLE_CHARACTERS. */
export function HasNoInvisibleCharacters(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'noInvisibleCharacters',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || !INVISIBLE_CHARACTERS.test(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'the field'} must hold ${INVISIBLE_CHARACTERS_RULE}`,
      },
    },
    options,
  );
}

/** An email address: refuses UNSAFE_IN_EMAIL. */
export function HasSafeEmailCharacters(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'safeEmailCharacters',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !UNSAFE_IN_EMAIL.test(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'the field'} must hold ${EMAIL_CHARACTERS_RULE}`,
      },
    },
    options,
  );
}

/** Only plain decimal digits: no sign, exponent, hex prefix, fraction or spaces. */
const DECIMAL_DIGITS = /^[0-9]{1,16}$/;

/**
 * A query parameter that is an integer: the text becomes a number only when it is plain decimal
 * digits. Anything else (`0x10`, `1e3`, ` 1`, `1.0`, a repeated parameter) stays as it came and
 * fails the field's @IsInt(), where `Number()` would have read `0x10` as 16.
 */
export function QueryInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && DECIMAL_DIGITS.test(value) ? Number(value) : value,
  );
}
