/**
 * @nestjs-modules/mailer, loaded once @nestjs/common has been evaluated. Import it from here.
 *
 * The package is CommonJS and require()s the ESM-only @nestjs/common. Node accepts a static
 * import, but Jest (Node 24) runs the CommonJS modules of an ES module graph while linking it,
 * before @nestjs/common has run, and fails with "Cannot require() ES Module … in a cycle". A
 * dynamic import from a module whose static imports include @nestjs/common works in both.
 */
import '@nestjs/common';
import type * as Mailer from '@nestjs-modules/mailer';

const mailer: typeof Mailer = await import('@nestjs-modules/mailer');

export const { MailerModule, MailerService } = mailer;
/** The instance type; inject it with `@Inject(MailerService)` (no design-type metadata here). */
export type MailerService = Mailer.MailerService;
export type { MailerOptions } from '@nestjs-modules/mailer';
