// Bundles the compiled service (dist/boot.js and what it imports, including most of node_modules)
// into dist/bundle.js, which dist/main.js (the entry point everything runs: Dockerfile, tests,
// docs) loads when it exists. Loading one file instead of ~2,000 modules saves start-up time and
// memory (bench/README.md). Run by `npm run build` after tsc.
//
// Left outside the bundle, loaded from node_modules at run time: packages with native binaries or
// files they read next to their own code (argon2, PGlite's WebAssembly, swagger-ui's assets), and
// the optional packages Nest, TypeORM and others only try to load.

import { build } from 'esbuild';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const external = [
  'argon2',
  '@electric-sql/pglite',
  '@electric-sql/pglite-socket',
  'swagger-ui-dist',
  'pino-pretty',
  'ioredis',
  'qrcode',
  '@zxcvbn-ts/language-common',
  // Optional: tried by Nest, TypeORM, pg, nodemailer, the mailer module, class-transformer …
  '@nestjs/microservices',
  '@nestjs/websockets',
  '@nestjs/platform-express',
  '@fastify/view',
  'pg-native',
  'class-transformer/storage',
  '@mikro-orm/core',
  '@nestjs/mongoose',
  '@nestjs/sequelize',
  '@nestjs/terminus',
  'ejs',
  'pug',
  'mjml',
  'liquidjs',
  'preview-email',
  'nunjucks',
  'twig',
  'haml',
  'hbs',
  'ts-morph',
  '@fastify/multipart',
];

const result = await build({
  entryPoints: [join(root, 'dist/boot.js')],
  outfile: join(root, 'dist/bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external,
  // CommonJS packages inside an ES module bundle still call require(): give them one.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  // Class names matter: Nest and TypeORM use them as tokens and table metadata.
  keepNames: true,
  // Smaller to read and parse at every start; names stay, for readable stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [
    {
      // An ES `import` of a Node built-in makes Node build an ES module facade of it, which reads
      // every export: for node:http that loads undici (its WebSocket and fetch classes), a third
      // of a second at start. Through require() the exports are read only when used.
      name: 'builtins-through-require',
      setup(b) {
        b.onResolve({ filter: /^[a-z_:/0-9]+$/ }, (args) =>
          (args.kind === 'import-statement' || args.kind === 'dynamic-import') &&
          isBuiltin(args.path)
            ? { path: args.path, namespace: 'builtin-through-require' }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'builtin-through-require' }, (args) => ({
          contents: `module.exports = require(${JSON.stringify(args.path)});`,
          loader: 'js',
        }));
      },
    },
    {
      name: 'typeorm-compat',
      setup(b) {
        b.onResolve({ filter: /typeorm-compat\.js$/ }, (args) =>
          args.importer.includes('@nestjs/typeorm')
            ? { path: join(root, 'src/build/typeorm-compat.mjs') }
            : undefined,
        );
      },
    },
    {
      name: 'lazy-css-inline',
      setup(b) {
        b.onResolve({ filter: /^@css-inline\/css-inline$/ }, () => ({
          path: join(root, 'src/build/lazy-css-inline.cjs'),
        }));
      },
    },
  ],
  legalComments: 'none',
  // ASCII only (non-ASCII escaped, also in regular expressions): Node decodes an ASCII file much faster.
  charset: 'ascii',
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stdout.write(`dist/bundle.js: ${(bytes / 1048576).toFixed(1)} MiB\n`);
