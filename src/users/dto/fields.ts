import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LOCALES } from '../../i18n/locales.js';
import { Nullable } from '../../common/validation/nullable.decorator.js';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  Matches,
} from 'class-validator';

// The admin API's own fields. Those of every account form (username, password, email) are in
// common/dto/fields.ts.

const ROLE_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_ROLES = 16;

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

/**
 * The language of the user's pages and mails. `null` clears the choice: pages follow the
 * browser's Accept-Language, mails DEFAULT_LOCALE.
 */
export function LocaleField(options: { required?: boolean } = {}): PropertyDecorator {
  const doc = {
    type: String,
    enum: [...LOCALES],
    nullable: true,
    example: 'zh-CN',
    description:
      "the language of the user's pages and mails; null: not chosen (pages follow the " +
      "browser's Accept-Language, mails DEFAULT_LOCALE)",
  };
  return applyDecorators(
    options.required ? ApiProperty(doc) : ApiPropertyOptional(doc),
    ...(options.required ? [] : [IsOptional()]),
    Nullable(),
    IsIn(LOCALES, { message: `locale must be one of: ${LOCALES.join(', ')} (or null)` }),
  );
}
