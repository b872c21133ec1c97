import { describe, expect, it } from '@jest/globals';
import { MailRenderer } from './mail-renderer.js';
import { MAIL_TEMPLATE_NAMES, type MailTemplates } from './mail-templates.js';

const renderer = new MailRenderer('Portcullis');

const samples: MailTemplates = {
  'email-changed': { username: 'alice', newEmail: 'new@example.com' },
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

describe('MailRenderer', () => {
  it.each(MAIL_TEMPLATE_NAMES)(
    'renders %s with an HTML and a text part inside the layout',
    (name) => {
      const mail = renderer.render(name, samples[name], 'alice@example.com');
      expect(mail.subject.length).toBeGreaterThan(0);
      expect(mail.html).toContain('<!doctype html>');
      expect(mail.html).toContain('alice@example.com');
      expect(mail.text).toContain('Hello alice,');
      expect(mail.text).not.toContain('<');
    },
  );

  it('writes the reset link and its validity in words in both parts', () => {
    const mail = renderer.render('password-reset', samples['password-reset'], 'alice@example.com');
    expect(mail.text).toContain('https://id.example.com/reset-password?token=abc&x=1');
    expect(mail.text).toContain('valid for 5 minutes');
    // Handlebars escapes `=` and `&` in attributes; browsers and mail clients decode them.
    expect(mail.html).toContain(
      'href="https://id.example.com/reset-password?token&#x3D;abc&amp;x&#x3D;1"',
    );
    expect(mail.html).toContain('valid for 5 minutes');
  });

  it('escapes user-controlled text in HTML', () => {
    const mail = renderer.render(
      'email-changed',
      { username: '<b>x</b>', newEmail: 'a@b.c' },
      'a@b.c',
    );
    expect(mail.html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('refuses a context with a missing variable (strict mode)', () => {
    expect(() => renderer.render('email-changed', { username: 'alice' } as never, 'a@b.c')).toThrow(
      /newEmail/,
    );
  });
});
