import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsEmail,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { EMAIL_MAX_LENGTH, StringField } from '../../common/dto/fields.js';
import {
  EMAIL_CHARACTERS_RULE,
  HasSafeEmailCharacters,
} from '../../common/validation/field-rules.js';
import { Nullable } from '../../common/validation/nullable.decorator.js';

/** Passwords are bounded here only to cap the work a request can cause; the policy sets the real rules. */
export const PASSWORD_INPUT_MAX = 1024;

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;

const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_ROLES = 16;

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

export function RolesField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'array',
      items: { type: 'string', minLength: 1, maxLength: 32, pattern: ROLE_PATTERN.source },
      maxItems: MAX_ROLES,
      uniqueItems: true,
      example: ['admin'],
    }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_ROLES),
    ArrayUnique(),
    Matches(ROLE_PATTERN, {
      each: true,
      message: 'each role must be 1-32 lowercase letters, digits, dashes or underscores',
    }),
  );
}

/**
 * An admin's word on the address: it is bound at once either way, and counts as verified (reset
 * links may go there) unless this is false.
 */
export function EmailVerifiedField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: Boolean,
      description:
        'whether the address counts as verified (reset links go only to a verified address); ' +
        'an address the admin sets is verified unless this is false; true needs an address',
    }),
    IsOptional(),
    IsBoolean(),
  );
}
