/**
 * Every mail Portcullis sends, with the context its template needs. The templates (an HTML and
 * a text part each) live in templates/mail/<name>.{html,text}.hbs, inside the shared layout of
 * templates/mail/layouts, and are rendered by MailComposer (each compiled once, strict).
 * No context ever holds a password; only the reset and confirmation mails hold a secret (their
 * link), and the outbox keeps contexts encrypted.
 */
export interface MailTemplates {
  'email-changed': { username: string; newEmail: string };
  'email-verification': { username: string; link: string; validFor: string };
  'password-reset': { username: string; link: string; validFor: string };
  'password-changed': { username: string; how: string };
  'two-factor-enabled': { username: string };
  'two-factor-disabled': { username: string; how: string };
  'recovery-code-used': { username: string; how: string; remaining: number };
}

export type MailTemplateName = keyof MailTemplates;

export const MAIL_SUBJECTS: Record<MailTemplateName, string> = {
  'email-changed': 'Your email address was changed',
  'email-verification': 'Confirm your email address',
  'password-reset': 'Reset your password',
  'password-changed': 'Your password was changed',
  'two-factor-enabled': 'Two-factor authentication is on',
  'two-factor-disabled': 'Two-factor authentication was turned off',
  'recovery-code-used': 'A recovery code was used',
};

export const MAIL_TEMPLATE_NAMES = Object.keys(MAIL_SUBJECTS) as MailTemplateName[];
