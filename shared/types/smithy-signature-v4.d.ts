/**
 * The ES module build of `@smithy/signature-v4`: the same API as the package's main entry, typed
 * from it. Bundled from this build, its imports of `@smithy/core` tree-shake to ~20 KB; the
 * CommonJS build `require`s all of `@smithy/core/protocols` (~130 KB of JSON codecs and event
 * streams a signer never runs), read and parsed at every cold start.
 */
declare module '@smithy/signature-v4/dist-es/index.js' {
  export * from '@smithy/signature-v4';
}
