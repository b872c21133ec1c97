import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/dto/pagination.dto.js';

export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'part of a username or email, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  search?: string;
}
