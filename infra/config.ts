/**
 * Everything a team changes to adopt op-lambda: one entry per stage (vaults, Connect, authorizer,
 * retention, alarms, throttling) and the function table (what each function is, where its code
 * lives, which routes reach it and who may call them, which 1Password secrets it needs, which
 * Connect token it reads them with).
 *
 * Secrets are 1Password references built from the stage's vaults, so one handler serves every stage
 * and moving a function to another vault is a one-line change here. Each purpose has its own vault
 * and each function its own Connect token, scoped in 1Password to the vaults it reads: a
 * compromised function can read its own secrets and no other's.
 */
import { Duration } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { formatReference, signingSecretNames, WEBHOOK_SOURCES, type WebhookSource } from 'op-lambda';
import type { ActivitySettings, ConnectTokenConfig, OperationsTokens, RotationItem, RotationSettings } from 'op-lambda/cdk';

export const STAGE_NAMES = ['staging', 'prod'] as const;
export type StageName = (typeof STAGE_NAMES)[number];
export const DEFAULT_STAGE: StageName = 'staging';

export interface RouteConfig {
  readonly method: HttpMethod;
  /** HTTP API route path; `{name}` is a path parameter. */
  readonly path: string;
  /**
   * Puts the route behind the stage's JWT authorizer: a caller needs a token of the stage's issuer
   * and audience carrying at least one of these scopes.
   * @default - public, which `publicBecause` must then justify
   */
  readonly authorizationScopes?: readonly string[];
  /** Why the route needs no authorizer; required without `authorizationScopes` (the cdk-nag APIG4 acknowledgement's reason). */
  readonly publicBecause?: string;
}

export interface FunctionConfig {
  /** Short name: part of the construct id, the Lambda function name and the metrics `service`. */
  readonly name: string;
  /** Handler entry file, relative to the project root. */
  readonly entry: string;
  readonly routes: readonly RouteConfig[];
  /** Environment variable name -> 1Password secret reference (`op://vault/item/[section/]field`). */
  readonly secrets: Readonly<Record<string, string>>;
  /**
   * This function's own Connect token, scoped in 1Password to the vaults holding exactly its
   * secrets (read-only). The function's role may read this secret and no other.
   */
  readonly connectToken: ConnectTokenConfig;
  /** Plain (non-secret) environment variables. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * Gives the function the webhook replay table (WEBHOOK_REPLAY_TABLE), which it may only add to.
   * @default false
   */
  readonly replayProtection?: boolean;
}

/** A VPC that already exists, imported from its attributes (no lookup at synth). */
export interface ExistingVpcConfig {
  readonly vpcId: string;
  /** The availability zones of `privateSubnetIds`, in the same order; at least two. */
  readonly availabilityZones: readonly string[];
  /** Private subnets with a route to the internet (NAT): connect-sync reaches 1Password.com through them. */
  readonly privateSubnetIds: readonly string[];
  /** Route tables of `privateSubnetIds`, in the same order. */
  readonly privateSubnetRouteTableIds: readonly string[];
}

/** The Connect server a stage deploys for itself (see ConnectServer). */
export interface ConnectServerConfig {
  /** The name functions call, `https://<domainName>`; resolvable inside the VPC only. */
  readonly domainName: string;
  /**
   * ARN of an existing ACM certificate for `domainName`, in the stack's region.
   * @default - a new certificate validated in `hostedZone`
   */
  readonly certificateArn?: string;
  /**
   * The public Route 53 zone holding `domainName`, to validate a new certificate (no lookup: give id and name).
   * @default - none; then `certificateArn` is required
   */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  /** Secrets Manager secret holding `1password-credentials.json`, base64url-encoded (docs/deploying.md, step 3). */
  readonly credentialsSecretName: string;
  /** @default 2 (the minimum: one per availability zone) */
  readonly taskCount?: number;
  /** Task CPU units. @default 256 */
  readonly cpu?: number;
  /** Task memory in MiB. @default 512 */
  readonly memoryMiB?: number;
  /** `1password/connect-api` version. @default DEFAULT_CONNECT_VERSION */
  readonly apiVersion?: string;
  /** `1password/connect-sync` version. @default DEFAULT_CONNECT_VERSION */
  readonly syncVersion?: string;
  /** @default - a VPC created for the stage: two availability zones, public and private subnets */
  readonly vpc?: ExistingVpcConfig;
  /** NAT gateways of a created VPC (ignored with `vpc`); one per zone survives a zone's outage. @default 1 */
  readonly natGateways?: number;
  /** A Secrets Manager interface endpoint in the VPC; turn off when `vpc` already has one. @default true */
  readonly secretsManagerEndpoint?: boolean;
  /** Retention of Connect's container logs. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

export interface ConnectConfig {
  /**
   * URL of an existing 1Password Connect server the functions call; must be https. Exactly one of
   * `host` and `server`.
   * @default - `https://<server.domainName>`
   */
  readonly host?: string;
  /**
   * A Connect server this stage deploys, private to its functions. Exactly one of `host` and `server`.
   * @default - none: `host` names an existing server
   */
  readonly server?: ConnectServerConfig;
}

/** The stage's 1Password vaults, one per purpose, so that a token can be scoped to a purpose. */
export interface StageVaults {
  /** The payments provider's API key: read by payments. */
  readonly payments: string;
  /** Webhook signing secrets: read by webhooks, rotated by rotate. */
  readonly webhooks: string;
  /** The database URL: read by health. */
  readonly database: string;
}

/**
 * The HTTP API's JWT authorizer (API Gateway validates signature, issuer, audience, expiry and the
 * route's scopes before a function runs).
 */
export interface AuthorizerConfig {
  /** Token issuer (`iss`); API Gateway fetches `<issuer>/.well-known/openid-configuration`. Must be https. */
  readonly issuer: string;
  /** Accepted `aud` (or, without `aud`, `client_id`) values. */
  readonly audience: readonly string[];
  /** The scope a token needs for `POST /payments`. */
  readonly paymentsScope: string;
}

export interface ThrottleConfig {
  /** Steady-state requests per second for the whole API stage. */
  readonly rateLimit: number;
  /** Burst requests for the whole API stage. */
  readonly burstLimit: number;
}

export interface StageConfig {
  readonly stage: StageName;
  /** @default - CDK_DEFAULT_ACCOUNT, else an environment-agnostic stack */
  readonly account?: string;
  /** @default - CDK_DEFAULT_REGION, else an environment-agnostic stack */
  readonly region?: string;
  /** The 1Password vaults every reference and rotation item of this stage points into (see `defineStage`). */
  readonly vaults: StageVaults;
  readonly connect: ConnectConfig;
  readonly authorizer: AuthorizerConfig;
  readonly operationsTokens: OperationsTokens;
  /** Retention of the API access logs. */
  readonly logRetention: RetentionDays;
  /** Retention of the function log groups, which carry the audit trail of secret reads (keep >= 1 year). */
  readonly auditLogRetention: RetentionDays;
  /** Where alarms are emailed. @default - alarms without notifications */
  readonly alarmEmail?: string;
  readonly throttle: ThrottleConfig;
  /** Protects the stack from `cdk destroy`. */
  readonly terminationProtection: boolean;
  readonly functions: readonly FunctionConfig[];
  /** Scheduled rotation of the webhook signing secrets, with its own read-write Connect token. */
  readonly rotation: RotationSettings;
  /** Forwarding of Connect's API activity log to `/op-lambda/<stage>/1password-activity`. */
  readonly activity: ActivitySettings;
}

/** The URL functions call: the existing `host`, or the deployed server's https name. */
export function connectUrl(connect: ConnectConfig): string {
  if ((connect.host === undefined) === (connect.server === undefined)) {
    throw new Error('connect: set exactly one of host (an existing Connect server) and server (one this stage deploys)');
  }
  return connect.host ?? `https://${connect.server!.domainName}`;
}

/** The 1Password item holding a webhook source's signing secrets: `current`, `previous` and `rotatedAt`. */
function webhookItem(source: WebhookSource): string {
  return `webhook-${source}`;
}

/** What scheduled rotation renews in a vault: every webhook source's signing secrets. */
function webhookRotationItems(vault: string): RotationItem[] {
  return WEBHOOK_SOURCES.map((source) => ({ vault, item: webhookItem(source) }));
}

interface FunctionTableSettings {
  readonly stage: StageName;
  readonly vaults: StageVaults;
  readonly paymentsApiUrl: string;
  readonly paymentsScope: string;
}

/** The Secrets Manager secret holding a function's own Connect token: `op-lambda/<stage>/<function>/connect-token`. */
export function connectTokenSecretName(stage: string, functionName: string): string {
  return `op-lambda/${stage}/${functionName}/connect-token`;
}

/** The functions of op-lambda and the secrets each one needs, for one stage's vaults. */
export function functionTable({ stage, vaults, paymentsApiUrl, paymentsScope }: FunctionTableSettings): FunctionConfig[] {
  const ref = (vault: string, item: string, ...path: [string] | [string, string]): string =>
    formatReference(path.length === 2 ? { vault, item, section: path[0], field: path[1] } : { vault, item, field: path[0] });
  const connectToken = (name: string): ConnectTokenConfig => ({ secretName: connectTokenSecretName(stage, name) });
  return [
    {
      name: 'health',
      entry: 'functions/health/handler.ts',
      routes: [{ method: HttpMethod.GET, path: '/health', publicBecause: 'a readiness probe for load balancers: it answers ready or not and nothing else' }],
      secrets: { DATABASE_URL: ref(vaults.database, 'database', 'connection', 'url') },
      connectToken: connectToken('health'),
    },
    {
      name: 'webhooks',
      entry: 'functions/webhooks/handler.ts',
      routes: [{
        method: HttpMethod.POST,
        path: '/webhooks/{source}',
        publicBecause: 'senders have no identity API Gateway could check: each delivery is authenticated by its HMAC signature before it is processed',
      }],
      replayProtection: true,
      // Each source has a current and a previous signing secret, so rotation never drops a delivery.
      secrets: Object.fromEntries(
        WEBHOOK_SOURCES.flatMap((source) => {
          const names = signingSecretNames(source);
          return [
            [names.current, ref(vaults.webhooks, webhookItem(source), 'current')],
            [names.previous, ref(vaults.webhooks, webhookItem(source), 'previous')],
          ];
        }),
      ),
      connectToken: connectToken('webhooks'),
    },
    {
      name: 'payments',
      entry: 'functions/payments/handler.ts',
      // Spends the provider key on the caller's behalf: only callers the stage's issuer vouches for.
      routes: [{ method: HttpMethod.POST, path: '/payments', authorizationScopes: [paymentsScope] }],
      secrets: { PAYMENTS_API_KEY: ref(vaults.payments, 'payments-api', 'credential') },
      environment: { PAYMENTS_API_URL: paymentsApiUrl },
      connectToken: connectToken('payments'),
    },
  ];
}

/** A stage's vaults: `op-lambda-<stage>-<purpose>`. */
function stageVaults(stage: StageName): StageVaults {
  return { payments: `op-lambda-${stage}-payments`, webhooks: `op-lambda-${stage}-webhooks`, database: `op-lambda-${stage}-database` };
}

function operationsTokens(stage: StageName): OperationsTokens {
  return { canary: { secretName: connectTokenSecretName(stage, 'canary') }, activity: { secretName: connectTokenSecretName(stage, 'activity') } };
}

const STAGING_AUTHORIZER: AuthorizerConfig = {
  issuer: 'https://auth.staging.example.com',
  audience: ['https://api.staging.example.com'],
  paymentsScope: 'payments:write',
};
const PROD_AUTHORIZER: AuthorizerConfig = {
  issuer: 'https://auth.example.com',
  audience: ['https://api.example.com'],
  paymentsScope: 'payments:write',
};

/**
 * What a stage states once; its function table and rotation items follow from `vaults`, the
 * payments URL and the authorizer's scope, so every reference of the stage points into its vaults.
 */
export interface StageSettings extends Omit<StageConfig, 'functions' | 'rotation'> {
  /** The payments provider the payments function forwards to. */
  readonly paymentsApiUrl: string;
  /** Rotation schedule and write token; the items rotated are the webhook items of `vaults.webhooks`. */
  readonly rotation: Omit<RotationSettings, 'items'>;
}

/** A stage's configuration from its settings: functions and rotation items in the stage's vaults. */
export function defineStage({ paymentsApiUrl, rotation, ...settings }: StageSettings): StageConfig {
  return {
    ...settings,
    functions: functionTable({ stage: settings.stage, vaults: settings.vaults, paymentsApiUrl, paymentsScope: settings.authorizer.paymentsScope }),
    rotation: { ...rotation, items: webhookRotationItems(settings.vaults.webhooks) },
  };
}

const STAGES: Readonly<Record<StageName, StageConfig>> = {
  staging: defineStage({
    stage: 'staging',
    vaults: stageVaults('staging'),
    connect: {
      server: {
        domainName: 'connect.staging.example.com',
        hostedZone: { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' },
        credentialsSecretName: 'op-lambda/staging/connect-credentials',
      },
    },
    authorizer: STAGING_AUTHORIZER,
    operationsTokens: operationsTokens('staging'),
    logRetention: RetentionDays.ONE_MONTH,
    auditLogRetention: RetentionDays.ONE_YEAR,
    throttle: { rateLimit: 50, burstLimit: 100 },
    terminationProtection: false,
    paymentsApiUrl: 'https://sandbox.payments.example.com',
    rotation: {
      schedule: 'rate(7 days)',
      writeTokenSecretName: 'op-lambda/staging/rotate/connect-write-token',
    },
    activity: { schedule: 'rate(5 minutes)', logRetention: RetentionDays.ONE_YEAR },
  }),
  prod: defineStage({
    stage: 'prod',
    vaults: stageVaults('prod'),
    connect: {
      server: {
        domainName: 'connect.example.com',
        hostedZone: { hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'example.com' },
        credentialsSecretName: 'op-lambda/prod/connect-credentials',
        taskCount: 2,
        natGateways: 2,
      },
    },
    authorizer: PROD_AUTHORIZER,
    operationsTokens: operationsTokens('prod'),
    logRetention: RetentionDays.THREE_MONTHS,
    auditLogRetention: RetentionDays.ONE_YEAR,
    throttle: { rateLimit: 500, burstLimit: 1000 },
    terminationProtection: true,
    paymentsApiUrl: 'https://api.payments.example.com',
    rotation: {
      schedule: 'rate(30 days)',
      writeTokenSecretName: 'op-lambda/prod/rotate/connect-write-token',
    },
    activity: { schedule: 'rate(5 minutes)', logRetention: RetentionDays.TWO_YEARS },
  }),
};

export function isStageName(value: unknown): value is StageName {
  return typeof value === 'string' && (STAGE_NAMES as readonly string[]).includes(value);
}

/** The configuration of a stage; an unknown name is an error that lists the known ones. */
export function stageConfig(stage: unknown = DEFAULT_STAGE): StageConfig {
  if (!isStageName(stage)) {
    throw new Error(
      `Unknown stage ${JSON.stringify(stage)}: expected one of ${STAGE_NAMES.join(', ')} (select it with -c stage=<name>)`,
    );
  }
  return STAGES[stage];
}
