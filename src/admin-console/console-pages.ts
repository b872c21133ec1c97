import type { FastifyReply } from 'fastify';
import { isUUID } from 'class-validator';
import { AppError } from '../common/errors/app-error.js';
import { type FieldFor, type PageErrors, pageErrors } from '../pages/page-errors.js';
import { PageProblem } from '../pages/page-exceptions.js';
import type { PageData, PageRenderer } from '../pages/page-renderer.js';
import type { SignedInSession } from '../pages/guards/page-session.decorator.js';

export type ConsoleSection = 'users' | 'audit' | 'clients';

/** Renders a console page: the wide layout, the console's navigation with `section` marked. */
export function sendConsolePage(
  renderer: PageRenderer,
  reply: FastifyReply,
  session: SignedInSession,
  section: ConsoleSection,
  view: string,
  data: PageData,
  status = 200,
): Promise<FastifyReply> {
  return renderer.send(
    reply,
    session,
    `admin/${view}`,
    { ...data, wide: true, console: { [section]: true } },
    status,
  );
}

/** Every error of a form in one sentence list above it (for lists and one-button forms). */
export function asFormErrors(errors: PageErrors): PageErrors {
  const messages = [errors.form, ...Object.values(errors.fields).flat()].filter(Boolean);
  return { form: messages.join(' '), fields: {}, rules: errors.rules };
}

const notFound = (what: 'user' | 'client') =>
  new PageProblem(404, {
    title: 'Not found',
    heading: what === 'user' ? 'There is no such user' : 'There is no such client',
    message:
      what === 'user'
        ? 'The user may have been deleted. Go back to the list of users.'
        : 'The client may have been deleted. Go back to the list of clients.',
  });

/** A user id from the path: a UUID (as the API's ParseUUIDPipe), else the 404 page. */
export function userIdOf(raw: string): string {
  if (!isUUID(raw)) {
    throw notFound('user');
  }
  return raw;
}

/** A client id from the path, as the API accepts them, else the 404 page. */
export function clientIdOf(raw: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) {
    throw notFound('client');
  }
  return raw;
}

/** The service's "no such user/client" as the 404 page; anything else as it was. */
export function asPageProblem(error: unknown): unknown {
  if (error instanceof AppError && error.code === 'USER_NOT_FOUND') {
    return notFound('user');
  }
  if (error instanceof AppError && error.code === 'CLIENT_NOT_FOUND') {
    return notFound('client');
  }
  return error;
}

/** Awaits a lookup; "no such user/client" becomes the 404 page. */
export async function found<T>(lookup: Promise<T>): Promise<T> {
  try {
    return await lookup;
  } catch (error) {
    throw asPageProblem(error);
  }
}

/**
 * pageErrors, with the field's label also where a message names the field inside a sentence
 * ("Each of redirectUris must be…" → "Each of the redirect URIs must be…").
 */
export function consoleErrors(
  error: unknown,
  fieldFor: FieldFor,
  labels: Record<string, string>,
): PageErrors {
  const errors = pageErrors(error, fieldFor, labels);
  for (const [field, messages] of Object.entries(errors.fields)) {
    const label = labels[field];
    if (label) {
      const noun = label.replace(/^The /, 'the ');
      errors.fields[field] = messages.map((m) => m.replace(`of ${field} `, `of ${noun} `));
    }
  }
  return errors;
}
