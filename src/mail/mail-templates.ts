/**
 * What a recovery code was used for (the "recovery code used" mail says it in words). The ids
 * are the `select` cases of the mail's message, so they are ICU identifiers (no dashes).
 */
export type RecoveryCodeUse = 'signIn' | 'passwordReset' | 'turnOffTwoFactor';
/** Who turned two-factor authentication off. */
export type TwoFactorOffBy = 'byUser' | 'byAdmin';

/**
 * Every mail Portcullis sends, with the context its template needs. The templates (an HTML and
 * a text part each) live in templates/mail/<name>.{html,text}.hbs, inside the shared layout of
 * templates/mail/layouts, and are rendered by MailComposer (each compiled once, strict). Their
 * words are the catalogues' `mail.*` messages (templates/locales/<code>.json), in the language stored
 * with the outbox row. A context holds no words of its own, only values: durations in seconds
 * and the reasons as ids, which the messages turn into words of the mail's language.
 * No context ever holds a password; only the reset and confirmation mails hold a secret (their
 * link), and the outbox keeps contexts encrypted.
 */
export interface MailTemplates {
  'email-changed': { username: string; newEmail: string };
  'email-verification': { username: string; link: string; validForSeconds: number };
  'password-reset': { username: string; link: string; validForSeconds: number };
  'password-changed': { username: string; how: 'passwordReset' };
  'two-factor-enabled': { username: string };
  'two-factor-disabled': { username: string; how: TwoFactorOffBy };
  'recovery-code-used': { username: string; how: RecoveryCodeUse; remaining: number };
}

export type MailTemplateName = keyof MailTemplates;

export const MAIL_TEMPLATE_NAMES: MailTemplateName[] = [
  'email-changed',
  'email-verification',
  'password-reset',
  'password-changed',
  'two-factor-enabled',
  'two-factor-disabled',
  'recovery-code-used',
];

/** Each mail's subject: a message of the catalogues. */
export function subjectKey(name: MailTemplateName): string {
  return `mail.${name}.subject`;
}
