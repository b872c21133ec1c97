import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { QueryInteger } from '../validation/field-rules.js';

const MAX_PAGE = 1_000_000;
const MAX_PAGE_SIZE = 100;

export class PageQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE,
    default: 1,
    description: 'plain decimal digits',
  })
  @QueryInteger()
  @Min(1)
  @Max(MAX_PAGE)
  @IsInt() // class-validator checks a field's rules bottom-up: the type first
  page: number = 1;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: 20,
    description: 'plain decimal digits',
  })
  @QueryInteger()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  @IsInt() // class-validator checks a field's rules bottom-up: the type first
  pageSize: number = 20;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
