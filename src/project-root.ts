import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's top-level folder. Found from this file, which sits directly in src/ (dist/ once
 * compiled), like the bundle dist/bundle.js that holds it in production: `..` is right from all
 * three, where a path relative to a deeper file would miss from the bundle.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** templates/ (mail and pages). */
export const TEMPLATE_ROOT = join(PROJECT_ROOT, 'templates');
