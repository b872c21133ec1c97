import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailerOptions } from '@nestjs-modules/mailer';
import { HandlebarsAdapter } from '@nestjs-modules/mailer/adapters/handlebars.adapter';
import Handlebars from 'handlebars';
import { registerI18nHelpers } from '../i18n/i18n-helpers.js';
import type { I18n } from '../i18n/i18n.service.js';
import type { Locale } from '../i18n/locales.js';
import { TEMPLATE_ROOT } from '../project-root.js';
import {
  MAIL_TEMPLATE_NAMES,
  type MailTemplateName,
  type MailTemplates,
  subjectKey,
} from './mail-templates.js';

/** templates/mail at the project's top level, from src/mail (tests) or dist/mail (built). */
export const MAIL_TEMPLATE_DIR = join(TEMPLATE_ROOT, 'mail');

export interface ComposedMail {
  subject: string;
  html: string;
  text: string;
}

type Part = 'html' | 'text';

/** Strict everywhere (a missing variable is an error, not ''); HTML escapes, text does not. */
const COMPILE_OPTIONS: Record<Part, CompileOptions> = {
  html: { strict: true },
  text: { strict: true, noEscape: true },
};

/** The folders whose templates are partials, named by path: `{{#> layouts/main.html}}`. */
const PARTIAL_DIRS = ['layouts', 'partials'];

/**
 * Renders the HTML and the text part of a mail with @nestjs-modules/mailer's HandlebarsAdapter.
 *
 * Each part is `<name>.<html|text>.hbs`, which wraps itself in its layout with a partial block
 * (`{{#> layouts/main.html}} … {{/layouts/main.html}}`); the adapter compiles a template on first
 * use and keeps it (a later mail costs it one existsSync, no read). Layouts and partials are
 * compiled and registered here, once: the adapter's own `options.partials` would glob and re-read
 * the partials folder on every mail, and its `options.layout` compiles the layout without strict
 * mode and allows a single layout for all parts.
 *
 * The adapter is deliberately not given to MailerModule as `template.adapter`: with one set,
 * MailerService require()s `preview-email` (pug, mailparser, a second nodemailer; measured
 * 0.5-1 s and 20-50 MB at start) whether previews are on or not. The parts rendered here go to
 * `MailerService.sendMail` as `html` and `text`.
 *
 * Words come from the catalogues through `{{t}}` (src/i18n/i18n-helpers.ts) in the mail's
 * language, `@root.locale`; the text part renders with `@root.plainText`, so no HTML is added.
 */
export class MailComposer {
  // CSS inlining off: the templates carry inline styles already, and inlining re-parses the HTML.
  private readonly adapter = new HandlebarsAdapter(undefined, { inlineCssEnabled: false });
  private readonly options: Record<Part, MailerOptions>;

  constructor(
    private readonly productName: string,
    private readonly i18n: I18n,
    dir: string = MAIL_TEMPLATE_DIR,
  ) {
    registerI18nHelpers(Handlebars, i18n);
    const missing = MAIL_TEMPLATE_NAMES.flatMap((name) => [
      `${name}.html.hbs`,
      `${name}.text.hbs`,
    ]).filter((file) => !existsSync(join(dir, file)));
    if (missing.length > 0) {
      throw new Error(`mail templates missing from ${dir}: ${missing.join(', ')}`);
    }
    this.options = {
      html: { template: { dir, options: COMPILE_OPTIONS.html } },
      text: { template: { dir, options: COMPILE_OPTIONS.text } },
    };
    // The adapter renders with the handlebars module's shared instance: partials go there.
    for (const folder of PARTIAL_DIRS) {
      for (const file of readdirSync(join(dir, folder)).filter((f) => f.endsWith('.hbs'))) {
        const part: Part = file.endsWith('.text.hbs') ? 'text' : 'html';
        const source = readFileSync(join(dir, folder, file), 'utf8');
        Handlebars.registerPartial(
          `${folder}/${file.slice(0, -'.hbs'.length)}`,
          Handlebars.compile(source, COMPILE_OPTIONS[part]),
        );
      }
    }
  }

  async compose<T extends MailTemplateName>(
    name: T,
    context: MailTemplates[T],
    recipient: string,
    locale: Locale,
  ): Promise<ComposedMail> {
    const subject = this.i18n.t(locale, subjectKey(name));
    const data = {
      ...context,
      ...this.inWords(context, locale),
      productName: this.productName,
      recipient,
      subject,
      locale,
    };
    const [html, text] = await Promise.all([
      this.render(`${name}.html.hbs`, data, 'html'),
      this.render(`${name}.text.hbs`, { ...data, plainText: true }, 'text'),
    ]);
    return { subject, html, text };
  }

  /**
   * The values a context holds as numbers, in words of the mail's language: `validForSeconds`
   * becomes `validFor` ("5 minutes", "5分钟"); a link gets `lang=`. A mail queued by a version before languages
   * holds `validFor` (and `how`) in English words already; they are used as they are.
   */
  private inWords(context: object, locale: Locale): { validFor?: string; link?: string } {
    const words: { validFor?: string; link?: string } = {};
    if ('validForSeconds' in context && typeof context.validForSeconds === 'number') {
      words.validFor = this.i18n.duration(locale, context.validForSeconds);
    }
    // A link of a mail that is not in DEFAULT_LOCALE opens its page in the mail's language,
    // even in a browser that never chose one (`?lang=`, then remembered).
    if (
      'link' in context &&
      typeof context.link === 'string' &&
      locale !== this.i18n.defaultLocale
    ) {
      const url = new URL(context.link);
      url.searchParams.set('lang', locale);
      words.link = url.href;
    }
    return words;
  }

  private render(template: string, context: object, part: Part): Promise<string> {
    // The adapter's contract is nodemailer's compile step: it sets `mail.data.html`, then calls
    // back; a strict-mode error is thrown, which rejects this promise.
    const mail: { data: { template: string; context: object; html?: string } } = {
      data: { template, context },
    };
    return new Promise((resolve, reject) => {
      this.adapter.compile(
        mail,
        (error?: unknown) => {
          if (error) {
            reject(
              error instanceof Error ? error : new Error('the mail template failed to render'),
            );
          } else {
            resolve(mail.data.html ?? '');
          }
        },
        this.options[part],
      );
    });
  }
}
