/**
 * Child-process entry of `synthesizeStage()`: synthesizes one stage of op-lambda into a folder, the
 * way `cdk synth` would (cdk.json's context, asset and path metadata, bundling with the local
 * esbuild), and prints one JSON line with the stack name on stdout.
 *
 * Usage: `tsx local/dev/synth-app.ts <stage> <outdir>`. Errors of the app (a bad stage, a bad secret
 * reference, cdk-nag findings) are printed on stderr as messages, with exit code 1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { defineApp, STAGE_CONTEXT_KEY } from '../../infra/define-app';
import { PROJECT_ROOT, type SynthAppResult } from './synth';

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

function synthesize(stage: string, outdir: string): SynthAppResult {
  const app = new App({
    outdir,
    context: {
      ...cdkJsonContext(),
      // What the CLI adds: the emulation finds asset folders and construct paths through them.
      'aws:cdk:enable-asset-metadata': true,
      'aws:cdk:enable-path-metadata': true,
      [STAGE_CONTEXT_KEY]: stage,
    },
  });
  const stack = defineApp(app);
  const assembly = app.synth();
  const messages = assembly.stacks.flatMap((artifact) => artifact.messages);
  const describe = (message: (typeof messages)[number]): string => `${message.id}: ${String(message.entry.data)}`;
  const errors = messages.filter((message) => message.level === 'error').map(describe);
  if (errors.length > 0) throw new Error(`synthesis found ${errors.length} error(s):\n${errors.join('\n')}`);
  return { stackName: stack.stackName, outdir, warnings: messages.filter((message) => message.level === 'warning').map(describe) };
}

function main(): void {
  const [stage, outdir] = process.argv.slice(2);
  if (!stage || !outdir) {
    console.error('usage: synth-app <stage> <outdir>');
    process.exitCode = 2;
    return;
  }
  try {
    process.stdout.write(`${JSON.stringify(synthesize(stage, outdir))}\n`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}

main();
