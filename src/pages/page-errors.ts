import type { ArgumentMetadata, Type } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { createValidationPipe } from '../common/errors/validation.js';

/** Errors as a page shows them: in words, each next to its field, or above the form. */
export interface PageErrors {
  form?: string;
  fields: Record<string, string[]>;
  /** The stable names of the broken rules (password policy), to mark them in a rule list. */
  rules?: string[];
}

/** Where an error code belongs on a form when the service names no field. */
export type FieldFor = Partial<Record<string, string>>;

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * Turns a service's AppError into words next to the right field. Policy violations list each
 * broken rule ("The password must be at least 8 characters long."). Anything else is rethrown.
 */
export function pageErrors(
  error: unknown,
  fieldFor: FieldFor,
  labels: Record<string, string> = {},
): PageErrors {
  if (!(error instanceof AppError)) {
    throw error;
  }
  const result: PageErrors = { fields: {} };
  if (error.errors && error.errors.length > 0) {
    for (const problem of error.errors) {
      const field = problem.field;
      const label = labels[field] ?? 'This field';
      const message = problem.message.startsWith(`${field} `)
        ? `${label} ${problem.message.slice(field.length + 1)}`
        : problem.message;
      (result.fields[field] ??= []).push(sentence(message));
      if (problem.rule) {
        (result.rules ??= []).push(problem.rule);
      }
    }
    return result;
  }
  const field = fieldFor[error.code];
  const message = sentence(error.detail ?? error.title);
  if (field) {
    result.fields[field] = [message];
  } else {
    result.form = message;
  }
  return result;
}

/**
 * Validates a form body with the API's own DTO (same bounds and formats), keeping only the
 * DTO's fields. Throws AppError VALIDATION_FAILED with the offending fields.
 */
export async function validateForm<T extends object>(
  dto: Type<T>,
  body: unknown,
  fields: (keyof T & string)[],
): Promise<T> {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const field of fields) {
    const value = typeof source[field] === 'string' ? source[field] : '';
    picked[field] = value;
    if (value.trim() === '') {
      missing.push(field);
    }
  }
  if (missing.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Some fields are empty.', {
      errors: missing.map((field) => ({
        field,
        rule: 'required',
        message: `${field} is required`,
      })),
    });
  }
  const metadata: ArgumentMetadata = { type: 'body', metatype: dto };
  return (await createValidationPipe().transform(picked, metadata)) as T;
}

/** The status a page answers with: the service error's own, 400 for a form problem. */
export function statusOf(error: unknown): number {
  return typeof error === 'object' && error !== null && 'status' in error
    ? Number(error.status) || 400
    : 400;
}
