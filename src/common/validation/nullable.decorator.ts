import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { ValidateIf } from 'class-validator';

const NULLABLE = 'portcullis:nullable';

/**
 * Marks a request field whose `null` means something (e.g. `email: null` unbinds the address).
 * Every other field refuses `null` with 400 VALIDATION_FAILED (see StrictValidationPipe), where
 * class-validator's @IsOptional alone would let it through to a NOT NULL column. The field's other
 * rules are skipped for `null`. Document it with `nullable: true` in its @ApiProperty.
 */
export function Nullable(): PropertyDecorator {
  return (target, property) => {
    Reflect.defineMetadata(NULLABLE, true, target, property);
    ValidateIf((_object, value) => value !== null)(target, property);
  };
}

/** Whether `property` of the DTO class `type` (or a class it extends) is marked @Nullable(). */
export function isNullable(type: Type<unknown>, property: string): boolean {
  return Reflect.getMetadata(NULLABLE, type.prototype as object, property) === true;
}
