import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { PasswordField } from '../../common/dto/fields.js';

export class AdminSetPasswordDto {
  @PasswordField() password!: string;

  @ApiPropertyOptional({ default: true, description: 'the user must change it after signing in' })
  @IsOptional()
  @IsBoolean()
  temporary?: boolean;
}
