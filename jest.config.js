/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[cm]?[jt]s$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }] },
  // @middy/* are ESM-only and export only the `import` condition: point jest at the file and transform it.
  // jose is ESM-only too (its `default` condition), so it is transformed as well.
  // The package's own entry points resolve to their sources, as tsconfig `paths` maps them.
  moduleNameMapper: {
    '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js',
    '^op-lambda$': '<rootDir>/shared/index.ts',
    '^op-lambda/(cdk|testing|powertools)$': '<rootDir>/shared/$1.ts',
  },
  // The ES build of @smithy/signature-v4 (see shared/types/smithy-signature-v4.d.ts) is transformed too.
  transformIgnorePatterns: ['/node_modules/(?!@middy/|@smithy/signature-v4/dist-es/|jose/)'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out'],
  testTimeout: 30000,
};
