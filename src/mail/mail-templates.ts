/**
 * Every mail Portcullis sends, with the context its template needs. The templates themselves
 * (HTML and text) live in templates/mail/ and are compiled once at start.
 */
export interface MailTemplates {
  'email-changed': { username: string; newEmail: string };
}

export type MailTemplateName = keyof MailTemplates;
