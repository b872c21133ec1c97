// Stands in for @css-inline/css-inline inside the bundle (src/build/bundle.mjs). The mail adapter of
// @nestjs-modules/mailer loads it at start, and loading it (a 20 MB native library, found through
// process.report) took a third of a second; Portcullis turns CSS inlining off, so the real one is
// loaded only should inlining ever be asked for. The name is built at run time so that the
// bundler leaves this require to Node.
const name = ['@css-inline', 'css-inline'].join('/');

module.exports = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS, on purpose (above)
  inline: (...args) => require(name).inline(...args),
};
