/**
 * Builds op-lambda into a CDK App: the stage from context (`-c stage=staging|prod`), its stack,
 * and cdk-nag's AWS Solutions checks over everything. Shared by `infra/app.ts` and the tests.
 */
import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_STAGE, type StageConfig, stageConfig } from './config';
import { ApiStack, apiStackName } from './stacks/api-stack';

/** Context key selecting the stage. */
export const STAGE_CONTEXT_KEY = 'stage';

export interface DefineAppOptions {
  /** Replaces the stage's configuration (tests, forks). @default - from infra/config.ts */
  readonly config?: StageConfig;
}

export function defineApp(app: App, options: DefineAppOptions = {}): ApiStack {
  const config = options.config ?? stageConfig(app.node.tryGetContext(STAGE_CONTEXT_KEY) ?? DEFAULT_STAGE);
  const name = apiStackName(config.stage);
  const stack = new ApiStack(app, name, { stackName: name, env: stackEnvironment(config), config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stack;
}

/**
 * Account and region from the config; otherwise the CLI's defaults, but only when it resolved both
 * (it always reports a region, even without credentials). Neither makes the stack environment-agnostic.
 */
function stackEnvironment(config: StageConfig): Environment | undefined {
  const { CDK_DEFAULT_ACCOUNT: defaultAccount, CDK_DEFAULT_REGION: defaultRegion } = process.env;
  const cliKnowsBoth = Boolean(defaultAccount && defaultRegion);
  const account = config.account ?? (cliKnowsBoth ? defaultAccount : undefined);
  const region = config.region ?? (cliKnowsBoth ? defaultRegion : undefined);
  return account === undefined && region === undefined ? undefined : { account, region };
}
