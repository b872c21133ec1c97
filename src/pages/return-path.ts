import { isPagePath } from './pages.setup.js';

/** Base for resolving a path: only used to prove the result stays on our own origin. */
const OWN_ORIGIN = 'http://portcullis.invalid';
const MAX_LENGTH = 1024;

function hasBackslashOrControl(value: string): boolean {
  return [...value].some((c) => c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

/**
 * Where to go back to after signing in, if `value` is one of our own pages: a relative path
 * (`/admin/users?page=2`), never another origin (`//evil.example`, `/\evil.example`,
 * `https://…`), never the sign-in or sign-out pages themselves. Anything else: null.
 */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) {
    return null;
  }
  // Browsers read '\' as '/' and drop tabs and newlines: '/\evil' would be '//evil'.
  if (!value.startsWith('/') || value.startsWith('//') || hasBackslashOrControl(value)) {
    return null;
  }
  let url: URL;
  try {
    url = new URL(value, OWN_ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== OWN_ORIGIN || url.hash) {
    return null;
  }
  const path = url.pathname;
  if (!isPagePath(path) || path === '/login' || path.startsWith('/login/') || path === '/logout') {
    return null;
  }
  return `${path}${url.search}`;
}

/** `/login`, with the place to come back to when there is one. */
export function loginPathFor(returnTo: string): string {
  const safe = safeReturnPath(returnTo);
  return safe ? `/login?next=${encodeURIComponent(safe)}` : '/login';
}
