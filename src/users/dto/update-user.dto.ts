import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { EmailField } from '../../common/dto/fields.js';
import { EmailVerifiedField, RolesField } from './fields.js';

/** Each field is optional; only `email` may be null (it unbinds the address). */
export class UpdateUserDto {
  @EmailField({ optional: true, nullable: 'null unbinds the email' }) email?: string | null;
  @EmailVerifiedField() emailVerified?: boolean;

  @RolesField() roles?: string[];

  @ApiPropertyOptional({ description: 'a disabled user cannot sign in and all their sessions end' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
