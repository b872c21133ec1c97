// Bundles the compiled service (dist/boot.js and what it imports, including most of node_modules)
// into dist/bundle.js, which dist/main.js (the entry point everything runs: Dockerfile, tests,
// docs) loads when it exists. Loading one file instead of ~2,000 modules saves start-up time and
// memory (bench/README.md). Run by `npm run build` after tsc.
//
// Left outside the bundle, loaded from node_modules at run time: packages with native binaries or
// files they read next to their own code (argon2, PGlite's WebAssembly, swagger-ui's assets), and
// the optional packages Nest, TypeORM and others only try to load.

import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
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
  // CommonJS packages inside an ES module bundle still call require(): give them one (node:module
  // through getBuiltinModule, as main.ts does, not an ES import and its facade of every export).
  banner: {
    js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
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
      name: 'lazy-libphonenumber',
      setup(b) {
        b.onResolve({ filter: /^libphonenumber-js\/max$/ }, () => ({
          path: join(root, 'src/build/lazy-libphonenumber.cjs'),
        }));
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
  // BUNDLE_SOURCEMAP=1: dist/bundle.js.map beside it, not referenced from the bundle, for tools
  // that name the source of a profile's frames (Node itself never reads it).
  sourcemap: process.env.BUNDLE_SOURCEMAP === '1' ? 'external' : false,
  // ASCII only (non-ASCII escaped, also in regular expressions): Node decodes an ASCII file much faster.
  charset: 'ascii',
  logLevel: 'warning',
  write: false,
});

/**
 * esbuild's `charset: 'ascii'` leaves non-ASCII characters inside regular expression literals
 * (validator's alphabets, ~1,000 of them). One such character makes the whole source a two-byte
 * string: V8 then holds the bundle's text at twice its size for as long as the process lives
 * (15 MiB instead of 7.6 of the idle heap) and decodes it at start through the slow UTF-8 path.
 * `\uXXXX` (one per UTF-16 unit) means the same in a string, an identifier or a regular expression
 * (with the `u` flag too, where a pair of escaped surrogates is one code point); after a backslash
 * it would not, so such a character stops the build instead.
 */
function escapeNonAscii(text) {
  const afterBackslash = /\\[\u0080-\uffff]/.exec(text);
  if (afterBackslash) {
    throw new Error(`bundle: a non-ASCII character after a backslash at ${afterBackslash.index}`);
  }
  return text.replace(
    /[\u0080-\uffff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

let bytes = 0;
for (const file of result.outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  if (file.path.endsWith('.js')) {
    const text = escapeNonAscii(file.text);
    bytes += text.length;
    writeFileSync(file.path, text);
  } else {
    writeFileSync(file.path, file.contents);
  }
}
process.stdout.write(`dist/bundle.js: ${(bytes / 1048576).toFixed(1)} MiB\n`);
