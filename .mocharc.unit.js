'use strict';
// Unit tests only: no Kafka, no registry, no databases.
const base = require('./.mocharc.js');

module.exports = {
  ...base,
  require: base.require.filter((file) => !file.includes('global-fixtures')),
  ignore: ['**/*.int.test.ts'],
};
