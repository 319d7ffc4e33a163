/**
 * One stage of op-lambda: the functions of the stage's function table behind an HTTP API, with
 * JSON access logs, stage throttling, a JWT authorizer on the routes that act on a caller's behalf,
 * and the observability that goes with them. Each function reads its own Connect token.
 */
import { join } from 'node:path';
import { CfnOutput, Fn, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type ConnectServer, connectToken, Observability, Operations, SecretsFunction, WebhookReplayTable } from 'op-lambda/cdk';
import type { AuthorizerConfig, FunctionConfig, RouteConfig, StageConfig } from '../config';
import { type ConnectEndpoint, connectEndpoint } from './connect-endpoint';

/** Root of the project: function entries in the config are relative to it. */
const PROJECT_ROOT = join(__dirname, '..', '..');

export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Name of a stage's stack, e.g. `OpLambda-staging`. */
export function apiStackName(stage: string): string {
  return `OpLambda-${stage}`;
}

export class ApiStack extends Stack {
  readonly api: apigw.HttpApi;
  readonly apiStage: apigw.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  /** Verifies callers' JWTs on the routes that declare authorization scopes. */
  readonly authorizer: HttpJwtAuthorizer;
  /** Functions by their name in the function table. */
  readonly functions: ReadonlyMap<string, SecretsFunction>;
  readonly observability: Observability;
  /** Rotation, the secrets canary and activity forwarding. */
  readonly operations: Operations;
  /** Deliveries already accepted, when a function has `replayProtection`. */
  readonly replayTable?: WebhookReplayTable;
  /** The stage's own Connect server, when its config deploys one. */
  readonly connectServer?: ConnectServer;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    const { config, ...stackProps } = props;
    super(scope, id, { terminationProtection: config.terminationProtection, ...stackProps });
    const namePrefix = `op-lambda-${config.stage}`;
    const connect = connectEndpoint(this, config.connect);
    this.connectServer = connect.server;

    this.functions = new Map(config.functions.map((fn) => [fn.name, this.createFunction(fn, config, namePrefix, connect)] as const));

    const replayProtected = config.functions.filter((fn) => fn.replayProtection);
    if (replayProtected.length > 0) {
      this.replayTable = new WebhookReplayTable(this, 'WebhookReplay');
      for (const fn of replayProtected) this.replayTable.grantRecord(this.functions.get(fn.name)!.function);
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: config.logRetention });
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      apiName: namePrefix,
      description: `op-lambda ${config.stage}`,
      createDefaultStage: false,
    });
    this.apiStage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: config.throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });
    this.authorizer = jwtAuthorizer(config.authorizer, namePrefix);
    for (const fn of config.functions) this.addRoutes(fn);

    this.observability = new Observability(this, 'Observability', {
      functions: [...this.functions.values()],
      namePrefix,
      alarmEmail: config.alarmEmail,
      connectServer: connect.server,
    });
    this.operations = new Operations(this, 'Operations', {
      config,
      alarmTopic: this.observability.alarmTopic,
      projectRoot: PROJECT_ROOT,
      connectHost: connect.host,
      placement: connect.placement,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'Base URL of the HTTP API' });
  }

  /**
   * The region's first two zones, as CloudFormation sees them (`Fn::GetAZs`): a VPC built here
   * never makes synthesis look zones up, even when the stack has an account and region.
   */
  override get availabilityZones(): string[] {
    return [0, 1].map((index) => Fn.select(index, Fn.getAzs()));
  }

  private createFunction(fn: FunctionConfig, config: StageConfig, namePrefix: string, connect: ConnectEndpoint): SecretsFunction {
    const functionName = `${namePrefix}-${fn.name}`;
    return new SecretsFunction(this, constructId(fn.name), {
      entry: join(PROJECT_ROOT, fn.entry),
      projectRoot: PROJECT_ROOT,
      functionName,
      description: `op-lambda ${config.stage} ${fn.name}${fn.routes.length ? `: ${fn.routes.map((route) => `${route.method} ${route.path}`).join(', ')}` : ''}`,
      secrets: fn.secrets,
      environment: fn.environment,
      connect: { host: connect.host, token: connectToken(fn.connectToken) },
      ...connect.placement,
      timeout: fn.timeout,
      memorySize: fn.memorySize,
      logRetention: config.auditLogRetention,
    });
  }

  private addRoutes(fn: FunctionConfig): void {
    const target = this.functions.get(fn.name)!;
    const integration = new HttpLambdaIntegration(`${constructId(fn.name)}Integration`, target.function);
    for (const route of fn.routes) {
      const authorization = route.authorizationScopes === undefined ? {} : { authorizer: this.authorizer, authorizationScopes: [...route.authorizationScopes] };
      const [created] = this.api.addRoutes({ path: route.path, methods: [route.method], integration, ...authorization });
      if (route.authorizationScopes === undefined) acknowledgePublicRoute(created!, fn, route);
    }
  }
}

/** Issuer and audience from the stage; the bearer token from the Authorization header. */
function jwtAuthorizer(config: AuthorizerConfig, namePrefix: string): HttpJwtAuthorizer {
  if (!Token.isUnresolved(config.issuer) && !config.issuer.startsWith('https://')) {
    throw new Error(`authorizer.issuer ${JSON.stringify(config.issuer)} must be an https:// URL (API Gateway fetches its keys from there)`);
  }
  if (config.audience.length === 0) throw new Error('authorizer.audience must name at least one audience');
  return new HttpJwtAuthorizer('JwtAuthorizer', config.issuer, { authorizerName: `${namePrefix}-jwt`, jwtAudience: [...config.audience] });
}

/** APIG4 on a route without an authorizer, with the reason the config gives for it. */
function acknowledgePublicRoute(route: apigw.HttpRoute, fn: FunctionConfig, config: RouteConfig): void {
  const routeKey = `${config.method} ${config.path}`;
  if (!config.publicBecause?.trim()) {
    throw new Error(`function ${fn.name}: route ${routeKey} has neither authorizationScopes nor publicBecause: put it behind the authorizer or say why it is public`);
  }
  Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason: `${routeKey} is public: ${config.publicBecause}` });
}

/** Access log line: JSON, one per request, with HTTP API context variables only. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationStatus: '$context.integrationStatus',
    integrationError: '$context.integrationErrorMessage',
  }),
);

function constructId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
