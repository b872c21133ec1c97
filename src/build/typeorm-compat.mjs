// Stands in for @nestjs/typeorm's dist/common/typeorm-compat.js inside the bundle
// (src/build/bundle.mjs). The original reads two optional exports with a run-time
// `createRequire(import.meta.url)('typeorm')`, which the bundler cannot see: from the bundle it
// loaded a second, unbundled copy of TypeORM at every start (0.9 s of CPU). This reads the same
// two exports from the bundled TypeORM (both undefined on TypeORM 1, as there).
import * as typeorm from 'typeorm';

const exports = /** @type {Record<string, unknown>} */ (typeorm);

export const Connection = exports['Connection'];
export const AbstractRepository = exports['AbstractRepository'];
