import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import {
  MAIL_SUBJECTS,
  MAIL_TEMPLATE_NAMES,
  type MailTemplateName,
  type MailTemplates,
} from './mail-templates.js';

/** templates/mail at the project's top level, from src/mail (tests) or dist/mail (built). */
export const MAIL_TEMPLATE_DIR = fileURLToPath(new URL('../../templates/mail', import.meta.url));

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

type Compiled = Handlebars.TemplateDelegate;

/**
 * Compiles every mail template once, in strict mode (a missing variable is an error, not an
 * empty string), with the shared layout and partials. HTML escapes; text does not.
 */
export class MailRenderer {
  private readonly html = Handlebars.create();
  private readonly text = Handlebars.create();
  private readonly templates = new Map<MailTemplateName, { html: Compiled; text: Compiled }>();
  private readonly layouts: { html: Compiled; text: Compiled };

  constructor(
    private readonly productName: string,
    dir: string = MAIL_TEMPLATE_DIR,
  ) {
    const read = (...parts: string[]) => readFileSync(join(dir, ...parts), 'utf8');
    const partials = join(dir, 'partials');
    for (const file of existsSync(partials) ? readdirSync(partials) : []) {
      const name = file.replace(/(\.html|\.text)?\.hbs$/, '');
      this.html.registerPartial(name, read('partials', file));
      this.text.registerPartial(name, read('partials', file));
    }
    const compileHtml = (source: string) => this.html.compile(source, { strict: true });
    const compileText = (source: string) =>
      this.text.compile(source, { strict: true, noEscape: true });
    this.layouts = {
      html: compileHtml(read('layouts', 'main.html.hbs')),
      text: compileText(read('layouts', 'main.text.hbs')),
    };
    for (const name of MAIL_TEMPLATE_NAMES) {
      this.templates.set(name, {
        html: compileHtml(read(`${name}.html.hbs`)),
        text: compileText(read(`${name}.text.hbs`)),
      });
    }
  }

  render<T extends MailTemplateName>(
    name: T,
    context: MailTemplates[T],
    recipient: string,
  ): RenderedMail {
    const template = this.templates.get(name);
    if (!template) {
      throw new Error(`no mail template named ${name}`);
    }
    const subject = MAIL_SUBJECTS[name];
    const shared = { productName: this.productName, recipient, subject };
    const data = { ...shared, ...context };
    return {
      subject,
      html: this.layouts.html({ ...shared, body: template.html(data) }),
      text: this.layouts.text({ ...shared, body: template.text(data).trim() }),
    };
  }
}
