import { expect } from '@jest/globals';
import type { Response } from 'supertest';
import { bearer } from './factories.js';
import type { SinkMail, SmtpSink } from './smtp-sink.js';
import type { TestApp } from './test-app.js';

/** PUBLIC_URL of every test app (test-app.ts). */
export const PUBLIC_URL = 'http://portcullis.test';

export const RESET_SUBJECT = 'Reset your password';
export const PASSWORD_CHANGED_SUBJECT = 'Your password was changed';
export const RECOVERY_USED_SUBJECT = 'A recovery code was used';

/** Retry-After as a client reads it: whole seconds. */
export function retryAfterSeconds(res: Response): number {
  const header = res.headers['retry-after'];
  expect(header).toMatch(/^\d+$/);
  return Number(header);
}

/** The reset link in the text part of a mail, as a user would click it, and its token. */
export function resetLinkIn(mail: SinkMail): { link: string; token: string } {
  const link = /\S+\/reset-password\?\S+/.exec(mail.text)?.[0];
  if (!link) {
    throw new Error(`no reset link in the mail text:\n${mail.text}`);
  }
  const token = new URL(link).searchParams.get('token');
  if (!token) {
    throw new Error(`the reset link carries no token: ${link}`);
  }
  return { link, token };
}

export interface RequestedLink {
  mail: SinkMail;
  link: string;
  token: string;
}

/** The calls of the forgot-password flow, and the mails they cause, for one app and sink. */
export function resetClient(t: TestApp, sink: SmtpSink) {
  const base = '/api/v1/password-reset';
  const mailsTo = (address: string, subject: string): SinkMail[] =>
    sink.mails.filter((m) => m.envelopeTo.includes(address.toLowerCase()) && m.subject === subject);

  const client = {
    request: (identifier: string, headers: Record<string, string> = {}) =>
      t.http().post(`${base}/requests`).set(headers).send({ identifier }),
    open: (token: string) => t.http().post(`${base}/sessions`).send({ token }),
    setup: (resetToken: string) =>
      t
        .http()
        .post(`${base}/two-factor/setup`)
        .set(...bearer(resetToken)),
    verify: (resetToken: string, code: string) =>
      t
        .http()
        .post(`${base}/two-factor/verify`)
        .set(...bearer(resetToken))
        .send({ code }),
    password: (resetToken: string, newPassword: string) =>
      t
        .http()
        .post(`${base}/password`)
        .set(...bearer(resetToken))
        .send({ newPassword }),

    mailsTo,
    /** Waits for the `n`-th mail (1-based) with this subject to this address. */
    async nthMailTo(address: string, subject: string, n: number): Promise<SinkMail> {
      await sink.waitForMail(() => mailsTo(address, subject).length >= n);
      return mailsTo(address, subject)[n - 1];
    },

    /**
     * Asks for a link (202) and returns the reset mail that request sent to `email`; the mails of
     * earlier requests for that address must have arrived already.
     */
    async requestLink(
      identifier: string,
      email: string,
      headers: Record<string, string> = {},
    ): Promise<RequestedLink> {
      const before = mailsTo(email, RESET_SUBJECT).length;
      const res = await client.request(identifier, headers);
      expect(res.status).toBe(202);
      const mail = await client.nthMailTo(email, RESET_SUBJECT, before + 1);
      return { mail, ...resetLinkIn(mail) };
    },

    /** Asks for a link and opens it: the reset token of a fresh reset session. */
    async startReset(user: { username: string; email: string | null }): Promise<string> {
      const { token } = await client.requestLink(user.username, user.email as string);
      const opened = await client.open(token);
      expect(opened.status).toBe(201);
      return opened.body.resetToken as string;
    },
  };
  return client;
}
