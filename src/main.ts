/**
 * The entry point, `node dist/main.js`. It turns on V8's compile cache, then loads the service:
 * the bundle `npm run build` makes of boot.ts and nearly everything it imports (dist/bundle.js,
 * see src/build/bundle.mjs), or boot.ts as compiled when there is no bundle.
 */

// Built-ins through process.getBuiltinModule, not `import`: an ES import of node:fs makes Node build
// a module facade that reads every export, which loads fs's streams (~30 ms of start-up).
const { existsSync } = process.getBuiltinModule('node:fs');
const { enableCompileCache } = process.getBuiltinModule('node:module');

// V8 keeps compiled code of every module loaded from here on (in the OS temp directory), so
// later starts skip most parsing and compiling.
enableCompileCache();

const bundle = new URL('./bundle.js', import.meta.url);
await import(existsSync(bundle) ? bundle.href : './boot.js');
