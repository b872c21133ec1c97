import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { I18n } from '../i18n/i18n.service.js';
import { MAIL_TEMPLATE_DIR, MailComposer } from './mail-composer.js';
import { MAIL_TEMPLATE_NAMES, type MailTemplates } from './mail-templates.js';

const i18n = new I18n('en');
const composer = new MailComposer('Portcullis', i18n);

const samples: MailTemplates = {
  'email-changed': { username: 'alice', newEmail: 'new@example.com' },
  'email-verification': {
    username: 'alice',
    link: 'https://id.example.com/verify-email?token=abc',
    validForSeconds: 86_400,
  },
  'password-reset': {
    username: 'alice',
    link: 'https://id.example.com/reset-password?token=abc&x=1',
    validForSeconds: 300,
  },
  'password-changed': { username: 'alice', how: 'passwordReset' },
  'two-factor-enabled': { username: 'alice' },
  'two-factor-disabled': { username: 'alice', how: 'byAdmin' },
  'recovery-code-used': { username: 'alice', how: 'signIn', remaining: 9 },
};

describe('MailComposer (HandlebarsAdapter of @nestjs-modules/mailer)', () => {
  it.each(MAIL_TEMPLATE_NAMES)(
    'renders %s with an HTML and a text part inside the shared layout',
    async (name) => {
      const mail = await composer.compose(name, samples[name], 'alice@example.com', 'en');
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
      'en',
    );
    expect(mail.text).toContain('\n\nhttps://id.example.com/reset-password?token=abc&x=1\n\n');
    expect(mail.text).toContain('It is valid for 5 minutes');
    // Handlebars escapes `=` and `&` in attributes; browsers and mail clients decode them.
    expect(mail.html).toContain(
      'href="https://id.example.com/reset-password?token&#x3D;abc&amp;x&#x3D;1"',
    );
    expect(mail.html).toContain('It is valid for 5 minutes');
  });

  it('writes the confirmation link and "valid for 1 day" in both parts', async () => {
    const mail = await composer.compose(
      'email-verification',
      samples['email-verification'],
      'new@example.com',
      'en',
    );
    expect(mail.subject).toBe('Confirm your email address');
    expect(mail.text).toContain('\n\nhttps://id.example.com/verify-email?token=abc\n\n');
    expect(mail.text).toContain('It is valid for 1 day and works once');
    expect(mail.html).toContain('href="https://id.example.com/verify-email?token&#x3D;abc"');
    expect(mail.html).toContain('It is valid for 1 day</strong>');
  });

  it('escapes user-controlled text in HTML and keeps it as typed in text', async () => {
    const mail = await composer.compose(
      'email-changed',
      { username: '<b>x</b> & "y"', newEmail: 'a@b.c' },
      'a@b.c',
      'en',
    );
    expect(mail.html).toContain('Hello &lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;,');
    expect(mail.html).not.toContain('<b>x</b>');
    expect(mail.text).toContain('Hello <b>x</b> & "y",');
  });

  it('refuses a context with a missing variable (strict mode), in either part', async () => {
    await expect(
      composer.compose('email-changed', { username: 'alice' } as never, 'a@b.c', 'en'),
    ).rejects.toThrow(/newEmail/);
    await expect(
      composer.compose(
        'password-reset',
        { username: 'alice', validFor: '5 minutes' } as never,
        'a',
        'en',
      ),
    ).rejects.toThrow(/link/);
  });

  it('writes a mail in Chinese: subject, words, duration and the html lang', async () => {
    const mail = await composer.compose(
      'password-reset',
      samples['password-reset'],
      'alice@example.com',
      'zh-CN',
    );
    expect(mail.subject).toBe('重置您的密码');
    expect(mail.html).toContain('<html lang="zh-CN">');
    expect(mail.html).toContain('<p>alice，您好：</p>');
    expect(mail.html).toContain('<strong>链接在5分钟内有效</strong>');
    expect(mail.text).toContain('链接在5分钟内有效，且只能使用一次。');
    expect(mail.text).toContain('这封邮件由 Portcullis 发送至 alice@example.com。');
    expect(mail.html + mail.text).not.toMatch(/valid for|Hello|This message/);
    // Its link opens the page in Chinese too.
    expect(mail.text).toContain('https://id.example.com/reset-password?token=abc&x=1&lang=zh-CN');
  });

  it('says how many recovery codes are left, with a plural rule per language', async () => {
    const used = (remaining: number, locale: 'en' | 'zh-CN') =>
      composer.compose(
        'recovery-code-used',
        { username: 'alice', how: 'passwordReset', remaining },
        'a@b.c',
        locale,
      );
    expect((await used(1, 'en')).text).toContain('used to reset your password. You have 1 left.');
    expect((await used(0, 'en')).text).toContain('You have no recovery codes left.');
    expect((await used(0, 'en')).html).toContain('You have <strong>no recovery codes</strong>');
    expect((await used(3, 'zh-CN')).text).toContain('刚刚被用于重置密码。您还剩 3 个恢复码。');
  });

  it('still sends a mail queued before languages (words in its context) as it was', async () => {
    const legacy = { username: 'alice', link: 'https://x.test/r?token=1', validFor: '5 minutes' };
    const mail = await composer.compose('password-reset', legacy as never, 'a@b.c', 'en');
    expect(mail.text).toContain('It is valid for 5 minutes');
    const old = { username: 'alice', how: 'to sign in', remaining: 2 };
    const used = await composer.compose('recovery-code-used', old as never, 'a@b.c', 'en');
    expect(used.text).toContain('was just used to sign in. You have 2 left.');
  });

  it('compiles each template once: after the first mail, the files are not read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-templates-'));
    try {
      cpSync(MAIL_TEMPLATE_DIR, dir, { recursive: true });
      const fromCopy = new MailComposer('Portcullis', i18n, dir);
      const first = await fromCopy.compose(
        'two-factor-enabled',
        { username: 'bob' },
        'b@b.c',
        'en',
      );
      rmSync(dir, { recursive: true, force: true });
      const again = await fromCopy.compose(
        'two-factor-enabled',
        { username: 'bob' },
        'b@b.c',
        'en',
      );
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
      expect(() => new MailComposer('Portcullis', i18n, dir)).toThrow(/password-reset\.text\.hbs/);
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
      'en',
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
