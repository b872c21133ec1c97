import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { FastifyReply } from 'fastify';
import type { Settings } from '../config/settings.js';
import { I18n, type MessageValues } from '../i18n/i18n.service.js';
import { type Locale, LOCALE_NAMES } from '../i18n/locales.js';
import { languageLinks, requestLocale } from '../i18n/request-locale.js';
import { PasswordPolicyService } from '../password-policy/password-policy.service.js';
import type { PageErrors, PageMessage } from './page-errors.js';
import type { PageSession } from './page-session.service.js';

export const PRODUCT_NAME = 'Portcullis';

export interface PageData {
  /**
   * The page's title: by default the catalogue's `pages.<view>.title` (with the page's text
   * values, e.g. `{clientName}`); `titleKey` picks another message; a plain `title` is used
   * only when the catalogue has no title for the view.
   */
  title?: string;
  titleKey?: string;
  errors?: PageErrors;
  /** A message of the catalogue shown above the form (`pages.notices.*`). */
  noticeKey?: string;
  notice?: string;
  [key: string]: unknown;
}

/** Renders a page inside the shared layout, with what every page shows, in its language. */
@Injectable()
export class PageRenderer {
  private readonly issuer: string;

  constructor(
    config: ConfigService<Settings, true>,
    readonly i18n: I18n,
    private readonly policy: PasswordPolicyService,
  ) {
    this.issuer = config.get('totp', { infer: true }).issuer;
  }

  /**
   * The language this page answers in: `?lang=`, its cookie, the signed-in user's locale,
   * Accept-Language, DEFAULT_LOCALE.
   */
  localeOf(reply: FastifyReply, session: PageSession | null): Locale {
    return requestLocale(reply.request, session?.user?.locale, this.i18n.defaultLocale);
  }

  /**
   * An error in words of the page's language: the service's English sentence on an English
   * page; elsewhere the catalogue's message, with the field's label and the policy's numbers.
   */
  say(locale: Locale, message: PageMessage): string {
    if (locale === 'en') {
      return message.text;
    }
    const label = message.field
      ? this.i18n.t(
          locale,
          this.i18n.has(`fields.${message.field}`) ? `fields.${message.field}` : 'fields.other',
        )
      : '';
    const values: MessageValues = { ...this.policyValues(), label, ...message.values };
    for (const key of [message.key, 'errors.other']) {
      if (this.i18n.has(key)) {
        try {
          return this.i18n.t(locale, key, values);
        } catch {
          // A message whose value this error lacks (e.g. no Retry-After): the generic one.
        }
      }
    }
    return message.text;
  }

  /** The password policy's rules in words of `locale`, those in `broken` marked. */
  policyRules(locale: Locale, broken: string[] = []): { description: string; broken: boolean }[] {
    const values = this.policyValues();
    return this.policy.describe().rules.map((rule) => ({
      description: this.i18n.t(locale, `policy.rule.${rule.rule}`, values),
      broken: broken.includes(rule.rule),
    }));
  }

  async send(
    reply: FastifyReply,
    session: PageSession | null,
    view: string,
    data: PageData,
    status = 200,
  ): Promise<FastifyReply> {
    const errors = data.errors ?? { fields: {} };
    const locale = this.localeOf(reply, session);
    const fieldErrors = Object.fromEntries(
      Object.entries(errors.fields).map(([field, messages]) => [
        field,
        messages.map((message) => this.say(locale, message)),
      ]),
    );
    const html = await reply.viewAsync(`${view}.hbs`, {
      ...data,
      title: this.titleOf(locale, view, data),
      notice: data.noticeKey ? this.i18n.t(locale, data.noticeKey) : data.notice,
      // `{{t}}` reads the language from here; `<html lang>` names it; the switcher links.
      locale,
      languages: languageLinks(reply.request, locale),
      defaultLanguageName: LOCALE_NAMES[this.i18n.defaultLocale],
      productName: PRODUCT_NAME,
      issuer: this.issuer,
      showIssuer: this.issuer !== PRODUCT_NAME,
      csrf: session?.csrf ?? '',
      user: session?.user ?? null,
      // The header links to the admin console for admins.
      isAdmin: session?.user?.roles.includes('admin') ?? false,
      formError: errors.form ? this.say(locale, errors.form) : undefined,
      fieldErrors,
      hasErrors: Boolean(errors.form) || Object.keys(errors.fields).length > 0,
      // The field partial reads `errors` from its own parameters; never inherit the page's.
      errors: null,
    });
    return reply.status(status).type('text/html; charset=utf-8').send(html);
  }

  redirect(reply: FastifyReply, to: string): FastifyReply {
    // 303: the browser follows with GET, so a reload never re-posts a form.
    return reply.redirect(to, 303);
  }

  private titleOf(locale: Locale, view: string, data: PageData): string {
    const key = data.titleKey ?? `pages.${view}.title`;
    if (!this.i18n.has(key)) {
      return data.title ?? '';
    }
    const values = Object.fromEntries(
      Object.entries(data).filter(([, value]) => ['string', 'number'].includes(typeof value)),
    ) as MessageValues;
    return this.i18n.t(locale, key, values);
  }

  private policyValues(): MessageValues {
    const policy = this.policy.describe();
    return {
      min: policy.minLength,
      max: policy.maxLength,
      history: policy.historySize,
      words: this.policy.settings.contextWords.join(', '),
    };
  }
}
