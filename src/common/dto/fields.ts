import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { HasNoInvisibleCharacters, INVISIBLE_CHARACTERS_RULE } from '../validation/field-rules.js';

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
