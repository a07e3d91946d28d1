// Mocha's settings. Test files named on the command line run alone
// (`npx mocha dist/test/x.test.js`); with none named, every compiled test.
// scripts/test.sh always names the files (only those with a source in test/).
const named = process.argv.slice(2).some((arg) => /\.test\.[cm]?js$/.test(arg));

module.exports = {
  ...(named ? {} : { spec: ['dist/test/**/*.test.js'] }),
  require: ['dist/test/fixtures/setup.js'],
  timeout: 20000,
  reporter: 'spec',
  'enable-source-maps': true,
};
