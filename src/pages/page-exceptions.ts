/** Thrown by a page guard or handler: the pages exception filter answers with a 303 to `to`. */
export class PageRedirect extends Error {
  constructor(readonly to: string) {
    super(`redirect to ${to}`);
    this.name = 'PageRedirect';
  }
}

/** What the plain error page (templates/pages/error.hbs) says. */
export interface ErrorPageWords {
  title: string;
  heading: string;
  message: string;
}

/** A refusal that the pages exception filter answers with the plain error page. */
export class ErrorPage extends Error {
  constructor(
    readonly status: number,
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
      title: 'Please try again',
      heading: 'This form has expired',
      message:
        'For your safety the form could not be accepted (it was open too long, or came from another site). Go back, reload the page and try again.',
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

/**
 * A page the browser may not see, or that does not exist: the error page with this status.
 * `page` holds message keys of the catalogues, said in the page's language.
 */
export class PageProblem extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    readonly page: { title: string; heading: string; message: string },
  ) {
    super(`${status} ${page.heading}`);
    this.name = 'PageProblem';
  }
}
