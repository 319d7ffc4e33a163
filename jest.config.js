/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[cm]?[jt]s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  // @middy/* are ESM-only and export only the `import` condition: point jest at the file and transform it.
  // jose is ESM-only too (its `default` condition), so it is transformed as well.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose)/)'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out'],
  testTimeout: 30000,
};
