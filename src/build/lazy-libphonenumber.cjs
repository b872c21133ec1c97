// Stands in for libphonenumber-js/max inside the bundle (src/build/bundle.mjs). class-validator
// loads it at start for @IsPhoneNumber, which Portcullis does not use: evaluating it and its
// metadata of every country's numbering plan took ~20 ms of each start and stayed on the heap.
// The real one is loaded from node_modules should the decorator ever check a value. The name is
// built at run time so that the bundler leaves this require to Node.
const name = ['libphonenumber-js', 'max'].join('/');

module.exports = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS, on purpose (above)
  parsePhoneNumber: (...args) => require(name).parsePhoneNumber(...args),
};
