import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Stand-in for Lambda's `/var/runtime`: the runtime interface client, and a `node_modules` that
 * offers what the managed Node.js runtime provides to every function and nothing more — the AWS
 * SDK for JavaScript v3 (`@aws-sdk/*`), which `NodejsFunction` leaves out of bundles by default.
 * A bundle that forgot any other dependency fails here as it would in AWS.
 */
export interface RuntimeDir {
  /** LAMBDA_RUNTIME_DIR. */
  readonly path: string;
  /** Entries for NODE_PATH, in Lambda's order (the task root is appended per function). */
  readonly nodePath: readonly string[];
  /** The runtime interface client's entry point, run as `<node> <entry> <handler>`. */
  readonly ricEntry: string;
  dispose(): Promise<void>;
}

export function runtimeInterfaceClientEntry(): string {
  const packageJson = require.resolve('aws-lambda-ric/package.json');
  return join(dirname(packageJson), 'index.mjs');
}

export async function createRuntimeDir(): Promise<RuntimeDir> {
  const root = await mkdtemp(join(tmpdir(), 'op-lambda-runtime-'));
  const modules = join(root, 'node_modules');
  await mkdir(modules);
  const sdk = installedAwsSdkFolder();
  // Resolution follows the symlink to its real path, so the SDK's own dependencies resolve from
  // the project's node_modules, while the function itself sees only `@aws-sdk/*`.
  if (sdk) await symlink(sdk, join(modules, '@aws-sdk'), 'dir');
  return {
    path: root,
    nodePath: [modules, root],
    ricEntry: runtimeInterfaceClientEntry(),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

function installedAwsSdkFolder(): string | undefined {
  // node_modules/aws-lambda-ric -> node_modules/@aws-sdk
  const folder = join(dirname(dirname(require.resolve('aws-lambda-ric/package.json'))), '@aws-sdk');
  return existsSync(folder) ? folder : undefined;
}
