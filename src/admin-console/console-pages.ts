import type { FastifyReply } from 'fastify';
import { isUUID } from 'class-validator';
import { AppError } from '../common/errors/app-error.js';
import { type FieldFor, type PageErrors, pageErrors } from '../pages/page-errors.js';
import { ErrorPage } from '../pages/page-exceptions.js';
import type { MessageValues } from '../i18n/i18n.service.js';
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
  const [first, ...more] = [errors.form, ...Object.values(errors.fields).flat()].filter(
    (message) => message !== undefined,
  );
  if (!first) {
    return { fields: {}, rules: errors.rules };
  }
  // One message above the form: the English sentences joined; a translated page says the first.
  const text = [first, ...more].map((message) => message.text).join(' ');
  return { form: { ...first, text }, fields: {}, rules: errors.rules };
}

const notFound = (what: 'user' | 'client') =>
  new ErrorPage(404, {
    title: 'admin.notFound.title',
    heading: `admin.notFound.${what}Heading`,
    message: `admin.notFound.${what}Message`,
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
export function asErrorPage(error: unknown): unknown {
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
    throw asErrorPage(error);
  }
}

/** A message of the catalogue in the language of this page. */
export type ConsoleText = (key: string, values?: MessageValues) => string;

/** The catalogue in the language this page answers in (`?lang=`, cookie, browser, default). */
export function consoleText(
  renderer: PageRenderer,
  reply: FastifyReply,
  session: SignedInSession,
): ConsoleText {
  const locale = renderer.localeOf(reply, session);
  return (key, values) => renderer.i18n.t(locale, key, values);
}

/** The console's form fields and query parameters, as errors name them. */
const FIELD_LABELS: Record<string, string> = {
  username: 'admin.labels.username',
  password: 'admin.labels.password',
  email: 'admin.labels.email',
  emailVerified: 'admin.labels.emailVerified',
  roles: 'admin.labels.roles',
  locale: 'admin.labels.locale',
  temporaryPassword: 'admin.labels.temporary',
  temporary: 'admin.labels.temporary',
  search: 'admin.labels.search',
  page: 'admin.labels.page',
  pageSize: 'admin.labels.pageSize',
  userId: 'admin.labels.user',
  type: 'admin.labels.type',
  name: 'admin.labels.name',
  redirectUris: 'admin.labels.redirectUris',
  postLogoutRedirectUris: 'admin.labels.postLogoutRedirectUris',
  public: 'admin.labels.public',
  firstParty: 'admin.labels.firstParty',
};

/**
 * pageErrors with the console's field labels, also where a message names the field inside a
 * sentence ("Each of redirectUris must be…" → "Each of the redirect URIs must be…").
 */
export function consoleErrors(error: unknown, fieldFor: FieldFor, t: ConsoleText): PageErrors {
  const labels = Object.fromEntries(
    Object.entries(FIELD_LABELS).map(([field, key]) => [field, t(key)]),
  );
  const errors = pageErrors(error, fieldFor, labels);
  for (const [field, messages] of Object.entries(errors.fields)) {
    const label = labels[field];
    if (label) {
      const noun = label.replace(/^The /, 'the ');
      errors.fields[field] = messages.map((m) => ({
        ...m,
        text: m.text.replace(`of ${field} `, `of ${noun} `),
      }));
    }
  }
  return errors;
}
