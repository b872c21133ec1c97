import { availableParallelism } from 'node:os';

// Jest in native ESM mode (NestJS 12 is ESM-only): run through `node --experimental-vm-modules`.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];
// A few ESM-only packages are require()d by CommonJS ones (@fastify/static, light-my-request).
// Node 20 allows that; Jest's module loader does not before Node 24.9, so Jest compiles them to CJS.
const ESM_ONLY_REQUIRED_FROM_CJS = ['content-disposition', 'cookie'];
const toCommonJs = ['@swc/jest', { module: { type: 'commonjs' }, jsc: { target: 'es2022' } }];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': swc,
    [`node_modules/(${ESM_ONLY_REQUIRED_FROM_CJS.join('|')})/.+\\.js$`]: toCommonJs,
  },
  transformIgnorePatterns: [`node_modules/(?!(${ESM_ONLY_REQUIRED_FROM_CJS.join('|')})/)`],
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
};

export default {
  // On PostgreSQL every test app shares one database (and one mail outbox): run files one at a time.
  // On PGlite each app has its own database: two files at once, even on a two-core machine.
  maxWorkers: process.env.TEST_DATABASE_URL ? 1 : Math.max(2, availableParallelism() - 1),
  // Booting the app on embedded PGlite takes a few seconds; no test waits on time otherwise.
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: 'src', testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      rootDir: 'test',
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: './global-setup.ts',
      globalTeardown: './global-teardown.ts',
    },
  ],
};
