/** Thrown by a page guard or handler: the pages exception filter answers with a 303 to `to`. */
export class PageRedirect extends Error {
  constructor(readonly to: string) {
    super(`redirect to ${to}`);
    this.name = 'PageRedirect';
  }
}

/** A form post whose CSRF token is not this browser's: answered with the 403 "form expired" page. */
export class FormExpired extends Error {
  constructor() {
    super('the form did not carry the CSRF token of this browser');
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
