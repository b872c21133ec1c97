import type { ArgumentMetadata, Type } from '@nestjs/common';
import { createValidationPipe } from '../common/errors/validation.js';

/** A form body or a query string as Fastify parsed it. */
export type FormFields = Record<string, unknown> | undefined | null;

/** A text field's value ('' when missing, repeated or not text). */
export function text(fields: FormFields, name: string): string {
  const value = fields?.[name];
  return typeof value === 'string' ? value : '';
}

/** Whether a checkbox was ticked (an unticked box is not sent at all). */
export function ticked(fields: FormFields, name: string): boolean {
  return text(fields, name) !== '';
}

/** Roles typed as "admin, auditor" or "admin auditor": each once, in the order typed. */
export function words(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter((word) => word !== ''))];
}

/** URIs typed one per line (blank lines ignored). */
export function lines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * The language select as the admin API takes `locale`: no field at all leaves it as it is, the
 * empty choice is null (not chosen), anything else goes as sent (a repeated field too), so the
 * DTO's own rule refuses what is not a language.
 */
export function localeInput(fields: FormFields): { locale?: unknown } {
  const value = fields?.locale;
  if (value === undefined) {
    return {};
  }
  return { locale: value === '' ? null : value };
}

/**
 * Checks what a form or a query says with the API's own DTO (the same bounds, formats and
 * messages): the DTO instance, or AppError VALIDATION_FAILED naming each offending field.
 */
export async function validated<T extends object>(
  dto: Type<T>,
  input: Record<string, unknown>,
  type: 'body' | 'query' = 'body',
): Promise<T> {
  const metadata: ArgumentMetadata = { type, metatype: dto };
  return (await createValidationPipe().transform(input, metadata)) as T;
}

/** The create-user form as POST /api/v1/admin/users takes it. */
export function newUserInput(body: FormFields): Record<string, unknown> {
  const email = text(body, 'email').trim();
  return {
    username: text(body, 'username').trim(),
    password: text(body, 'password'),
    ...(email ? { email, emailVerified: ticked(body, 'emailVerified') } : {}),
    roles: words(text(body, 'roles')),
    ...localeInput(body),
    temporaryPassword: ticked(body, 'temporaryPassword'),
  };
}

/**
 * The user's details form as PATCH /api/v1/admin/users/:id takes it ('' unbinds the email, the
 * empty language choice clears the locale).
 */
export function userChangesInput(body: FormFields): Record<string, unknown> {
  const email = text(body, 'email').trim();
  return {
    email: email === '' ? null : email,
    ...(email ? { emailVerified: ticked(body, 'emailVerified') } : {}),
    roles: words(text(body, 'roles')),
    ...localeInput(body),
  };
}

/** The new-password form as PUT /api/v1/admin/users/:id/password takes it. */
export function newPasswordInput(body: FormFields): Record<string, unknown> {
  return { password: text(body, 'password'), temporary: ticked(body, 'temporary') };
}

/** The new-client form as POST /api/v1/admin/clients takes it. */
export function newClientInput(body: FormFields): Record<string, unknown> {
  return {
    name: text(body, 'name').trim(),
    redirectUris: lines(text(body, 'redirectUris')),
    postLogoutRedirectUris: lines(text(body, 'postLogoutRedirectUris')),
    public: ticked(body, 'public'),
    firstParty: ticked(body, 'firstParty'),
  };
}

/** The client form as PATCH /api/v1/admin/clients/:clientId takes it. */
export function clientChangesInput(body: FormFields): Record<string, unknown> {
  return {
    name: text(body, 'name').trim(),
    redirectUris: lines(text(body, 'redirectUris')),
    postLogoutRedirectUris: lines(text(body, 'postLogoutRedirectUris')),
    firstParty: ticked(body, 'firstParty'),
  };
}

/** The list and audit pages' query, with only the parameters they know. */
export function queryInput(query: FormFields, names: string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const name of names) {
    const value = query?.[name];
    // '' is "no filter" in a form that was submitted with an empty field.
    if (value !== undefined && value !== '') {
      input[name] = value;
    }
  }
  return input;
}
