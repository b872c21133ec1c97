import type { ArgumentMetadata, Type } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { createValidationPipe } from '../common/errors/validation.js';
import type { MessageValues } from '../i18n/i18n.service.js';

/**
 * One error as a page says it. `text` is the service's own English sentence, which an English
 * page shows as it is; a page in another language says the catalogue's `key` with `values`
 * (PageRenderer.say). `field` names the form field, whose label a message may include.
 */
export interface PageMessage {
  text: string;
  key: string;
  values: MessageValues;
  field?: string;
}

/** Errors as a page shows them: in words, each next to its field, or above the form. */
export interface PageErrors {
  form?: PageMessage;
  fields: Record<string, PageMessage[]>;
  /** The stable names of the broken rules (password policy), to mark them in a rule list. */
  rules?: string[];
}

/** The password policy's rules (src/password-policy/password-policy.ts), by their stable names. */
const POLICY_RULES = new Set([
  'minLength',
  'maxLength',
  'notUsername',
  'notEmail',
  'notContextWord',
  'notRepetitive',
  'notCommon',
  'notRecent',
]);

/** The catalogue key of a broken field rule: the policy's own, or a validation rule's. */
function ruleKey(code: string, rule: string | undefined): string {
  if (code === 'PASSWORD_POLICY_VIOLATION' && rule && POLICY_RULES.has(rule)) {
    return `policy.violation.${rule}`;
  }
  return rule === 'required' || rule === 'maxLength' || rule === 'minLength'
    ? `validation.${rule}`
    : 'validation.invalid';
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
      (result.fields[field] ??= []).push({
        text: sentence(message),
        key: ruleKey(error.code, problem.rule),
        values: {},
        field,
      });
      if (problem.rule) {
        (result.rules ??= []).push(problem.rule);
      }
    }
    return result;
  }
  const field = fieldFor[error.code];
  const retryAfter = Number(error.headers?.['Retry-After']);
  const message: PageMessage = {
    text: sentence(error.detail ?? error.title),
    key: `errors.${error.code}`,
    values: {
      field: field ?? 'form',
      ...(Number.isFinite(retryAfter) ? { seconds: retryAfter } : {}),
    },
  };
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
