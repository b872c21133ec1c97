import { expect } from '@jest/globals';
import { bearer, type Json } from './factories.js';
import type { SinkMail, SmtpSink } from './smtp-sink.js';
import type { TestApp } from './test-app.js';

export const CONFIRM_EMAIL_SUBJECT = 'Confirm your email address';
export const EMAIL_CHANGED_SUBJECT = 'Your email address was changed';

/** The mails with this subject whose envelope goes to `address`, oldest first. */
export function mailsTo(sink: SmtpSink, address: string, subject: string): SinkMail[] {
  return sink.mails.filter(
    (m) => m.envelopeTo.includes(address.toLowerCase()) && m.subject === subject,
  );
}

/** The confirmation link in the text part of a mail, as a user would click it, and its token. */
export function confirmationLinkIn(mail: SinkMail): { link: string; token: string } {
  const link = /\S+\/verify-email\?\S+/.exec(mail.text)?.[0];
  const token = link ? new URL(link).searchParams.get('token') : null;
  if (!link || !token) {
    throw new Error(`no confirmation link with a token in the mail text:\n${mail.text}`);
  }
  return { link, token };
}

/** PUT /api/v1/me/email: asks for a confirmation link to `email`. */
export function requestEmailChange(
  t: TestApp,
  accessToken: string,
  email: string,
  currentPassword: string,
) {
  return t
    .http()
    .put('/api/v1/me/email')
    .set(...bearer(accessToken))
    .send({ email, currentPassword });
}

/** POST /api/v1/me/email/verify (public): uses a confirmation link's token. */
export function verifyEmail(t: TestApp, token: string) {
  return t.http().post('/api/v1/me/email/verify').send({ token });
}

/**
 * Asks for a confirmation link (202) and returns the mail that request sent to `email` and its
 * token; the confirmation mails of earlier requests to that address must have arrived already.
 */
export async function requestConfirmation(
  t: TestApp,
  sink: SmtpSink,
  accessToken: string,
  email: string,
  currentPassword: string,
): Promise<{ mail: SinkMail; link: string; token: string }> {
  const before = mailsTo(sink, email, CONFIRM_EMAIL_SUBJECT).length;
  const res = await requestEmailChange(t, accessToken, email, currentPassword);
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ pendingEmail: email, expiresIn: expect.any(Number) });
  await sink.waitForMail(() => mailsTo(sink, email, CONFIRM_EMAIL_SUBJECT).length > before);
  const mail = mailsTo(sink, email, CONFIRM_EMAIL_SUBJECT)[before];
  return { mail, ...confirmationLinkIn(mail) };
}

/**
 * Binds `email` the way its owner does: asks for the change, reads the confirmation mail from the
 * sink and uses its link. Returns the profile the confirmation answered with.
 */
export async function bindEmail(
  t: TestApp,
  sink: SmtpSink,
  accessToken: string,
  email: string,
  currentPassword: string,
): Promise<Json> {
  const { token } = await requestConfirmation(t, sink, accessToken, email, currentPassword);
  const res = await verifyEmail(t, token);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ email, emailVerified: true, pendingEmail: null });
  return res.body as Json;
}
