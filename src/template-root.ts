import { fileURLToPath } from 'node:url';

/**
 * The repository's templates/ folder. Found from this file, which sits directly in src/ (dist/
 * once compiled), like the bundle dist/main.js that holds it in production: `../templates` is
 * right from all three, where a path relative to a deeper file would miss from the bundle.
 */
export const TEMPLATE_ROOT = fileURLToPath(new URL('../templates', import.meta.url));
