/**
 * CDK entry point (`cdk.json`: `npx tsx infra/app.ts`). Select the stage with `-c stage=staging|prod`.
 * Needs no AWS credentials and no network: nothing is looked up at synth time.
 */
import { App } from 'aws-cdk-lib';
import { defineApp } from './define-app';

try {
  defineApp(new App());
} catch (error) {
  // A configuration mistake is a message for the user, not a stack trace.
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
