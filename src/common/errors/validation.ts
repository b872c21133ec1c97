import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { precheck } from '../validation/input-checks.js';
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

function invalid(errors: FieldProblem[]): AppError {
  return new AppError('VALIDATION_FAILED', 'Some fields are not valid; see errors.', { errors });
}

/**
 * Nest's ValidationPipe, with the checks class-transformer and class-validator cannot be trusted
 * with run first, on the value as it came: strings that are not well-formed Unicode (validators
 * throw on them), keys the DTO does not declare (own-property comparison, so `constructor` or
 * `toString` count as unknown), and `null` for a field that is not @Nullable(). The fields these
 * find are kept from the libraries; the others still go through them, so that one answer lists
 * every offending field.
 */
export class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!metadata.metatype || !this.toValidate(metadata)) {
      return (await super.transform(value, metadata)) as unknown;
    }
    const { problems, keys } = precheck(value, metadata.metatype);
    if (problems.length === 0) {
      return (await super.transform(value, metadata)) as unknown;
    }
    if (!keys) {
      throw invalid(problems);
    }
    const rest = Object.fromEntries(
      Object.entries(value as Record<string, unknown>).filter(([key]) => !keys.has(key)),
    );
    const others = await this.problemsOf(rest, metadata);
    throw invalid([...problems, ...others.filter((problem) => !keys.has(problem.field))]);
  }

  private async problemsOf(value: unknown, metadata: ArgumentMetadata): Promise<FieldProblem[]> {
    try {
      await super.transform(value, metadata);
      return [];
    } catch (error) {
      if (error instanceof AppError && error.code === 'VALIDATION_FAILED') {
        return error.errors ?? [];
      }
      throw error;
    }
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
