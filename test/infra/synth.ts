/**
 * In-process synthesis for the infra tests: the context of cdk.json (feature flags) plus the
 * metadata the CLI adds, so a template synthesized here matches one from `cdk synth`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';

export const PROJECT_ROOT = join(__dirname, '..', '..');

const CDK_JSON = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };

export interface TestApp {
  readonly app: App;
  /** Removes the app's output folder. */
  readonly cleanup: () => void;
}

export interface TestAppOptions {
  /** Extra context, e.g. `{ stage: 'prod' }`. */
  readonly context?: Record<string, unknown>;
  /** Skip esbuild (for tests of construct logic that never look at the code). @default false */
  readonly skipBundling?: boolean;
}

export function createTestApp(options: TestAppOptions = {}): TestApp {
  const outdir = mkdtempSync(join(tmpdir(), 'op-lambda-synth-'));
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON.context,
      'aws:cdk:enable-asset-metadata': true,
      'aws:cdk:enable-path-metadata': true,
      ...(options.skipBundling ? { 'aws:cdk:bundling-stacks': [] } : {}),
      ...options.context,
    },
  });
  return { app, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Violations cdk-nag (or any validation plugin) left in the assembly's report. */
export function validationViolations(app: App): string[] {
  const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations?: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[] }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    (plugin.violations ?? []).map(
      (violation) =>
        `${plugin.pluginName}: ${violation.ruleName} at ${(violation.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`,
    ),
  );
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown>; DeletionPolicy?: string }>;

/** Resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The logical id of the Lambda function with this physical name. */
export function functionLogicalId(template: Template, functionName: string): string {
  const matches = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).filter(
    ([, resource]) => resource.Properties?.FunctionName === functionName,
  );
  if (matches.length !== 1) throw new Error(`expected one function named ${functionName}, found ${matches.length}`);
  return matches[0]![0];
}
