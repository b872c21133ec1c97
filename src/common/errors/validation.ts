import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { illFormedStrings, undeclaredOrNullFields } from '../validation/input-checks.js';
import { AppError, type FieldProblem } from './app-error.js';

function collect(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([rule, message]) => ({
      field,
      rule,
      message: rule === 'whitelistValidation' ? `${field} is not an accepted field` : message,
    }));
    return [...own, ...collect(error.children ?? [], field)];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(errors: FieldProblem[]): AppError {
  return new AppError('VALIDATION_FAILED', 'Some fields are not valid; see errors.', { errors });
}

/**
 * Nest's ValidationPipe, with the checks class-transformer and class-validator cannot be trusted
 * with run first, on the value as it came: strings that are not well-formed Unicode (validators
 * throw on them), keys the DTO does not declare (own-property comparison, so `constructor` or
 * `toString` count as unknown), and `null` for a field that is not @Nullable().
 */
export class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.metatype && this.toValidate(metadata)) {
      const problems = illFormedStrings(value);
      if (problems.length === 0 && isRecord(value)) {
        problems.push(...undeclaredOrNullFields(value, metadata.metatype));
      }
      if (problems.length > 0) {
        throw invalid(problems);
      }
    }
    return (await super.transform(value, metadata)) as unknown;
  }
}

/** Bodies and queries are validated against their DTOs; unknown fields are rejected. */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalid(collect(errors)),
  });
}
