import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsEmail,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import {
  EMAIL_CHARACTERS_RULE,
  HasSafeEmailCharacters,
} from '../../common/validation/field-rules.js';
import { Nullable } from '../../common/validation/nullable.decorator.js';

/** Passwords are bounded here only to cap the work a request can cause; the policy sets the real rules. */
export const PASSWORD_INPUT_MAX = 1024;

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;

const trim = Transform(({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim() : value,
);

export function UsernameField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      example: 'alice',
      minLength: 3,
      maxLength: 64,
      pattern: USERNAME_PATTERN.source,
    }),
    IsString(),
    Matches(USERNAME_PATTERN, {
      message: 'username must be 3-64 letters, digits, dots, dashes or underscores',
    }),
  );
}

export function PasswordField(
  description = 'checked against the password policy',
): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ format: 'password', maxLength: PASSWORD_INPUT_MAX, description }),
    IsString(),
    MinLength(1),
    MaxLength(PASSWORD_INPUT_MAX),
  );
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
    maxLength: 254,
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
    MaxLength(254),
    IsEmail({}, { message }),
    HasSafeEmailCharacters(),
  );
}

export function RolesField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], example: ['admin'], maxItems: 16 }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(16),
    ArrayUnique(),
    Matches(/^[a-z][a-z0-9_-]{0,31}$/, {
      each: true,
      message: 'each role must be 1-32 lowercase letters, digits, dashes or underscores',
    }),
  );
}
