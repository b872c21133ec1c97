import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import {
  EMAIL_CHARACTERS_RULE,
  HasNoInvisibleCharacters,
  HasSafeEmailCharacters,
  INVISIBLE_CHARACTERS_RULE,
} from '../validation/field-rules.js';
import { Nullable } from '../validation/nullable.decorator.js';

/** The rules of a string field, and what the OpenAPI document says about it besides. */
export interface StringFieldOptions {
  /** Omitted: the empty string is accepted. */
  minLength?: number;
  maxLength: number;
  pattern?: RegExp;
  /** The message of the length and pattern rules, where one sentence says them all. */
  message?: string;
  optional?: boolean;
  description?: string;
  example?: string;
  format?: string;
}

/**
 * A string field of a request: the validators and the OpenAPI schema come from the same numbers,
 * so the document states exactly the limits the server enforces (the Swagger CLI plugin, which
 * would read them from the validators, does not run: the build is plain tsc). Checked in this
 * order (class-validator checks rules in the order they were applied; the field's first broken
 * rule is the one reported): type, lengths, pattern.
 */
export function StringField(options: StringFieldOptions): PropertyDecorator {
  const { minLength, maxLength, pattern, message, optional = false, ...doc } = options;
  const rule = message ? { message } : {};
  const schema = {
    type: String,
    ...(minLength !== undefined ? { minLength } : {}),
    maxLength,
    ...(pattern ? { pattern: pattern.source } : {}),
    ...doc,
  };
  return applyDecorators(
    optional ? ApiPropertyOptional(schema) : ApiProperty(schema),
    ...(optional ? [IsOptional()] : []),
    IsString(),
    ...(minLength !== undefined ? [MinLength(minLength, rule)] : []),
    MaxLength(maxLength, rule),
    ...(pattern ? [Matches(pattern, rule)] : []),
  );
}

/** Authenticator codes (6 digits) and recovery codes, as typed: bounded only to cap the work. */
export const CODE_MAX_LENGTH = 64;

/** A code from the authenticator app, or one of the recovery codes where `description` says so. */
export function CodeField(description: string): PropertyDecorator {
  return StringField({ minLength: 1, maxLength: CODE_MAX_LENGTH, description, example: '123456' });
}

/** An opaque token the server issued; `maxLength` is a bound on its encoding, not a secret. */
export function TokenField(maxLength: number, description: string): PropertyDecorator {
  return StringField({ minLength: 1, maxLength, description });
}

/** The longest email address (RFC 5321's path limit); also bounds a username-or-email field. */
export const EMAIL_MAX_LENGTH = 254;

/** A username or an email address, as a person types it to sign in or to ask for a reset link. */
export function SignInNameField(): PropertyDecorator {
  return applyDecorators(
    StringField({
      minLength: 1,
      maxLength: EMAIL_MAX_LENGTH,
      description: `username or email, with ${INVISIBLE_CHARACTERS_RULE}`,
      example: 'alice',
    }),
    HasNoInvisibleCharacters(),
  );
}

/** Passwords are bounded here only to cap the work a request can cause; the policy sets the real rules. */
export const PASSWORD_INPUT_MAX = 1024;

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;

const trim = Transform(({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim() : value,
);

export function UsernameField(): PropertyDecorator {
  return StringField({
    minLength: 3,
    maxLength: 64,
    pattern: USERNAME_PATTERN,
    message: 'username must be 3-64 letters, digits, dots, dashes or underscores',
    example: 'alice',
  });
}

export function PasswordField(
  description = 'checked against the password policy (GET /api/v1/password-policy)',
): PropertyDecorator {
  return StringField({
    minLength: 1,
    maxLength: PASSWORD_INPUT_MAX,
    format: 'password',
    description,
  });
}

/**
 * An email address as it is stored: trimmed, at most 254 characters, and free of characters that
 * hide or disguise text (controls, bidi controls, spaces, fullwidth forms). `nullable` gives the
 * meaning of `null` where the API accepts it.
 */
export function EmailField(options: { optional: boolean; nullable?: string }): PropertyDecorator {
  const description =
    `${options.nullable ? `${options.nullable}; ` : ''}` +
    `a valid address with ${EMAIL_CHARACTERS_RULE}`;
  const doc = {
    example: 'alice@example.com',
    type: String,
    format: 'email',
    maxLength: EMAIL_MAX_LENGTH,
    description,
    ...(options.nullable ? { nullable: true } : {}),
  };
  const message = `email must be a valid email address${options.nullable ? ' or null' : ''}`;
  return applyDecorators(
    options.optional ? ApiPropertyOptional(doc) : ApiProperty(doc),
    ...(options.optional ? [IsOptional()] : []),
    ...(options.nullable ? [Nullable()] : []),
    trim,
    IsString({ message }),
    MaxLength(EMAIL_MAX_LENGTH),
    IsEmail({}, { message }),
    HasSafeEmailCharacters(),
  );
}
