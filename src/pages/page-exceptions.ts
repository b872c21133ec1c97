/** Thrown by a page guard or handler: the pages exception filter answers with a 303 to `to`. */
export class PageRedirect extends Error {
  constructor(readonly to: string) {
    super(`redirect to ${to}`);
    this.name = 'PageRedirect';
  }
}

/** What the plain error page (templates/pages/error.hbs) says: three catalogue keys. */
export interface ErrorPageWords {
  title: string;
  heading: string;
  message: string;
}

/**
 * A refusal that the pages exception filter answers with the plain error page, in the page's
 * language: `words` are catalogue keys (templates/locales/*.json), translated when the page is rendered.
 */
export class ErrorPage extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly words: ErrorPageWords,
  ) {
    super(words.heading);
    this.name = 'ErrorPage';
  }
}

/** A form post whose CSRF token is not this browser's: answered with the 403 "form expired" page. */
export class FormExpired extends ErrorPage {
  constructor() {
    super(403, {
      title: 'pages.error.formExpiredTitle',
      heading: 'pages.error.formExpired',
      message: 'pages.error.formExpiredMessage',
    });
    this.name = 'FormExpired';
  }
}

/**
 * The emailed reset link could not be used (the cause is the service's error, or a form
 * problem such as a missing token): answered with the reset link-problem page.
 */
export class ResetLinkProblem extends Error {
  constructor(readonly problem: unknown) {
    super('the reset link could not be used');
    this.name = 'ResetLinkProblem';
  }
}
