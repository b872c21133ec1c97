import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { MAIL_TEMPLATE_DIR, MailComposer } from './mail-composer.js';
import { MAIL_TEMPLATE_NAMES, type MailTemplates } from './mail-templates.js';

const composer = new MailComposer('Portcullis');

const samples: MailTemplates = {
  'email-changed': { username: 'alice', newEmail: 'new@example.com' },
  'email-verification': {
    username: 'alice',
    link: 'https://id.example.com/verify-email?token=abc',
    validFor: '24 hours',
  },
  'password-reset': {
    username: 'alice',
    link: 'https://id.example.com/reset-password?token=abc&x=1',
    validFor: '5 minutes',
  },
  'password-changed': { username: 'alice', how: 'through a password reset' },
  'two-factor-enabled': { username: 'alice' },
  'two-factor-disabled': { username: 'alice', how: 'by an administrator' },
  'recovery-code-used': { username: 'alice', how: 'to sign in', remaining: 9 },
};

describe('MailComposer (HandlebarsAdapter of @nestjs-modules/mailer)', () => {
  it.each(MAIL_TEMPLATE_NAMES)(
    'renders %s with an HTML and a text part inside the shared layout',
    async (name) => {
      const mail = await composer.compose(name, samples[name], 'alice@example.com');
      expect(mail.subject.length).toBeGreaterThan(0);
      // HTML layout: document, title, product name, the body, the footer partial.
      expect(mail.html).toMatch(/^<!doctype html>/);
      expect(mail.html).toContain(`<title>${mail.subject}</title>`);
      expect(mail.html).toContain('font-weight:600;">Portcullis</p>');
      expect(mail.html).toContain('<p>Hello alice,</p>');
      expect(mail.html).toContain('This message was sent by Portcullis to alice@example.com.');
      expect(mail.html.trimEnd()).toMatch(/<\/html>$/);
      // Text layout: product name first, the body, the footer after "--".
      expect(mail.text).toMatch(/^Portcullis\n\nHello alice,\n\n/);
      expect(mail.text).toContain(
        '\n\n--\nThis message was sent by Portcullis to alice@example.com.',
      );
      expect(mail.text).not.toMatch(/<[a-z!/]/i);
      expect(mail.text).not.toMatch(/\{\{|&[a-z#0-9]+;/i);
    },
  );

  it('writes the reset link and "valid for 5 minutes" in both parts', async () => {
    const mail = await composer.compose(
      'password-reset',
      samples['password-reset'],
      'alice@example.com',
    );
    expect(mail.text).toContain('\n\nhttps://id.example.com/reset-password?token=abc&x=1\n\n');
    expect(mail.text).toContain('It is valid for 5 minutes');
    // Handlebars escapes `=` and `&` in attributes; browsers and mail clients decode them.
    expect(mail.html).toContain(
      'href="https://id.example.com/reset-password?token&#x3D;abc&amp;x&#x3D;1"',
    );
    expect(mail.html).toContain('It is valid for 5 minutes');
  });

  it('writes the confirmation link and "valid for 24 hours" in both parts', async () => {
    const mail = await composer.compose(
      'email-verification',
      samples['email-verification'],
      'new@example.com',
    );
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.text).toContain('\n\nhttps://id.example.com/verify-email?token=abc\n\n');
    expect(mail.text).toContain('It is valid for 24 hours and works once');
    expect(mail.html).toContain('href="https://id.example.com/verify-email?token&#x3D;abc"');
    expect(mail.html).toContain('It is valid for 24 hours</strong>');
  });

  it('escapes user-controlled text in HTML and keeps it as typed in text', async () => {
    const mail = await composer.compose(
      'email-changed',
      { username: '<b>x</b> & "y"', newEmail: 'a@b.c' },
      'a@b.c',
    );
    expect(mail.html).toContain('Hello &lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;,');
    expect(mail.html).not.toContain('<b>x</b>');
    expect(mail.text).toContain('Hello <b>x</b> & "y",');
  });

  it('refuses a context with a missing variable (strict mode), in either part', async () => {
    await expect(
      composer.compose('email-changed', { username: 'alice' } as never, 'a@b.c'),
    ).rejects.toThrow(/newEmail/);
    await expect(
      composer.compose(
        'password-reset',
        { username: 'alice', validFor: '5 minutes' } as never,
        'a',
      ),
    ).rejects.toThrow(/link/);
  });

  it('compiles each template once: after the first mail, the files are not read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
    try {
      cpSync(MAIL_TEMPLATE_DIR, dir, { recursive: true });
      const fromCopy = new MailComposer('Portcullis', dir);
      const first = await fromCopy.compose('two-factor-enabled', { username: 'bob' }, 'b@b.c');
      rmSync(dir, { recursive: true, force: true });
      const again = await fromCopy.compose('two-factor-enabled', { username: 'bob' }, 'b@b.c');
      expect(again).toEqual(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start when a part of a mail has no template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
    try {
      cpSync(MAIL_TEMPLATE_DIR, dir, { recursive: true });
      rmSync(join(dir, 'password-reset.text.hbs'));
      expect(() => new MailComposer('Portcullis', dir)).toThrow(/password-reset\.text\.hbs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('goes out through MailerService as one multipart/alternative message from MAIL_FROM', async () => {
    // Loaded after @nestjs/common (see mailer-package.ts): a static import fails under Jest.
    const { mailerOptions } = await import('./mail.module.js');
    const { MailerService } = await import('./mailer-package.js');
    const mailer = new MailerService(
      mailerOptions({ smtpUrl: undefined, from: 'Acme <id@acme.test>' }),
      undefined as never,
    );
    const mail = await composer.compose(
      'password-reset',
      samples['password-reset'],
      'alice@example.com',
    );
    const info = (await mailer.sendMail({ to: 'alice@example.com', ...mail })) as {
      message: Buffer;
    };
    const raw = info.message.toString('utf8');
    expect(raw).toMatch(/^From: Acme <id@acme\.test>$/m);
    expect(raw).toMatch(/^Subject: Reset your password$/m);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/m);
    expect(raw).toMatch(/^Content-Type: text\/plain; charset=utf-8$/m);
    expect(raw).toMatch(/^Content-Type: text\/html; charset=utf-8$/m);
    await mailer.onModuleDestroy();
  });
});
