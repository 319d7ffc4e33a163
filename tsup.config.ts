import { defineConfig } from 'tsup';

/**
 * The published package: four entry points, each as ESM (.mjs) and CommonJS (.js) with its types.
 * Dependencies and peers stay external (tsup's default); `op-lambda` itself stays external too, so
 * the cdk, testing and powertools entries share the runtime's one copy (one ConnectError class).
 */
export default defineConfig({
  entry: {
    index: 'shared/index.ts',
    cdk: 'shared/cdk.ts',
    testing: 'shared/testing.ts',
    powertools: 'shared/powertools.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  platform: 'node',
  target: 'node20',
  external: ['op-lambda'],
  // __dirname in the ESM build: the constructs find the package's own files from it.
  shims: true,
  clean: true,
});
