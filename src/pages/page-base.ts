import type { FastifyRequest } from 'fastify';

export type FormRequest = FastifyRequest & { body?: Record<string, unknown> };

/** A form field's text value ('' when missing or not text). */
export function field(request: FormRequest, name: string): string {
  const value = request.body?.[name];
  return typeof value === 'string' ? value : '';
}

/** Groups a base32 secret by 4 for typing it into an authenticator by hand. */
export function groupsOf4(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}
