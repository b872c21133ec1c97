import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
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
