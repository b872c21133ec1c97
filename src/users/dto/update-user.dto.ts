import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsOptional, MaxLength, ValidateIf } from 'class-validator';
import { Transform } from 'class-transformer';
import { Nullable } from '../../common/validation/nullable.decorator.js';
import { RolesField } from './fields.js';

export class UpdateUserDto {
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'alice@example.com',
    description: 'null unbinds the email',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @Nullable()
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be a valid email address or null' })
  email?: string | null;

  @RolesField() roles?: string[];

  @ApiPropertyOptional({ description: 'a disabled user cannot sign in and all their sessions end' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}
