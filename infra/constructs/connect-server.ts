/**
 * 1Password Connect on ECS Fargate, private to the functions that read secrets through it.
 *
 * Each task runs both of Connect's containers: `connect-api` (the REST API) and `connect-sync`
 * (keeps the encrypted local copy in step with 1Password.com), sharing one volume at
 * `/home/opuser/.op/data`, both given the credentials file from Secrets Manager as `OP_SESSION`.
 * An internal Application Load Balancer terminates TLS with an ACM certificate for `domainName`,
 * which a private hosted zone in the VPC points at the balancer: the name resolves only inside the
 * VPC, and only the functions' security group may open a connection to it.
 */
import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { LoadBalancerTarget } from 'aws-cdk-lib/aws-route53-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** Connect image versions known to work with op-lambda; pinned, never `latest`. */
export const DEFAULT_CONNECT_VERSION = '1.8.2';
/** Where both containers keep the encrypted copy of the vaults (the images' own data directory). */
export const CONNECT_DATA_PATH = '/home/opuser/.op/data';
/** The images' `opuser`: both containers run as this uid, never as root. */
export const CONNECT_USER = '999';
/** The REST API's port inside the task; the load balancer forwards here. */
export const CONNECT_API_PORT = 8080;
/** connect-sync's own HTTP port: the containers share the task's network namespace. */
export const CONNECT_SYNC_PORT = 8081;

/** The two containers find each other on this bus; Fargate grants no NET_BROADCAST for discovery. */
const BUS = { api: 11220, sync: 11221 } as const;
const PINNED_VERSION = /^\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/;
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Where a function must be placed to reach the server: the props Lambda's L2 takes for a VPC. */
export interface ConnectClientPlacement {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

export interface ConnectServerProps {
  /** The VPC the server runs in; its private subnets (with egress) must span at least two availability zones. */
  readonly vpc: ec2.IVpc;
  /**
   * Secrets Manager secret holding `1password-credentials.json` base64url-encoded: it becomes
   * `OP_SESSION` in both containers. Only the task's execution role may read it.
   */
  readonly credentialsSecret: secretsmanager.ISecret;
  /** The name the functions call (`https://<domainName>`); the certificate must cover it. */
  readonly domainName: string;
  /**
   * An ACM certificate for `domainName`, in the stack's region.
   * @default - a new certificate, validated through DNS records in `hostedZone`
   */
  readonly certificate?: acm.ICertificate;
  /**
   * A public hosted zone containing `domainName`, where the new certificate's validation records go.
   * Required without `certificate`; ignored with one.
   * @default - none
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Tasks the service keeps running; Fargate spreads them over the subnets' availability zones.
   * @default 2
   */
  readonly desiredCount?: number;
  /**
   * Task CPU units, shared by both containers (a Fargate size: 256, 512, 1024, …).
   * @default 256
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB, shared by both containers (valid for `cpu` on Fargate).
   * @default 512
   */
  readonly memoryLimitMiB?: number;
  /**
   * Version of `1password/connect-api`: `x.y.z`, optionally with `@sha256:<digest>`.
   * @default DEFAULT_CONNECT_VERSION
   */
  readonly apiVersion?: string;
  /**
   * Version of `1password/connect-sync`: `x.y.z`, optionally with `@sha256:<digest>`.
   * @default DEFAULT_CONNECT_VERSION
   */
  readonly syncVersion?: string;
  /**
   * Registry and namespace the images come from, e.g. an ECR pull-through cache.
   * @default '1password' (Docker Hub)
   */
  readonly imageRepositoryPrefix?: string;
  /**
   * CPU architecture of the tasks; Connect publishes images for both.
   * @default ecs.CpuArchitecture.ARM64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * Retention of the containers' log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Creates a Secrets Manager interface endpoint in the private subnets, so functions read their
   * Connect token (and tasks their credentials) without leaving the VPC. Turn it off when the VPC
   * already has one with private DNS (a second one cannot be created).
   * @default true
   */
  readonly secretsManagerEndpoint?: boolean;
}

export class ConnectServer extends Construct implements ec2.IConnectable {
  /** `https://<domainName>`: what functions set as OP_CONNECT_HOST. */
  readonly url: string;
  readonly domainName: string;
  /** The balancer's connections: default port 443. */
  readonly connections: ec2.Connections;
  /** Functions carry this group; it is the only source the balancer admits. */
  readonly clientSecurityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly certificate: acm.ICertificate;
  readonly logGroup: logs.LogGroup;
  readonly vpc: ec2.IVpc;
  readonly desiredCount: number;

  constructor(scope: Construct, id: string, props: ConnectServerProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.domainName = this.checkedDomainName(props.domainName);
    this.url = `https://${this.domainName}`;
    this.desiredCount = this.checkedDesiredCount(props.desiredCount ?? 2);
    const subnets = this.privateSubnets();
    this.certificate = this.resolveCertificate(props);

    this.clientSecurityGroup = new ec2.SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: this.vpc,
      description: 'Functions reading 1Password secrets: HTTPS out (Connect, Secrets Manager, their own providers)',
      allowAllOutbound: false,
    });
    this.clientSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS only');

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition = this.createTaskDefinition(props);
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc });
    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: '1Password Connect tasks: API from the load balancer; HTTPS out to 1Password.com, the image registry and AWS',
      allowAllOutbound: false,
    });
    taskSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS only');
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: this.desiredCount,
      vpcSubnets: subnets,
      securityGroups: [taskSecurityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      platformVersion: ecs.FargatePlatformVersion.LATEST,
    });

    const balancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: '1Password Connect load balancer: HTTPS from the functions only',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: false,
      vpcSubnets: subnets,
      securityGroup: balancerSecurityGroup,
      dropInvalidHeaderFields: true,
    });
    this.listener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [this.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      // Ingress is granted to the functions' group below, never to 0.0.0.0/0.
      open: false,
    });
    this.targetGroup = this.listener.addTargets('Connect', {
      port: CONNECT_API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.service.loadBalancerTarget({ containerName: 'connect-api', containerPort: CONNECT_API_PORT })],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: '/heartbeat',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    this.connections = new ec2.Connections({ securityGroups: [balancerSecurityGroup], defaultPort: ec2.Port.tcp(443) });
    this.connections.allowDefaultPortFrom(this.clientSecurityGroup, 'functions reading 1Password secrets');

    this.createPrivateName();
    if (props.secretsManagerEndpoint ?? true) this.createSecretsManagerEndpoint(subnets, [this.clientSecurityGroup, taskSecurityGroup]);
    this.acknowledgeFindings();
  }

  /** Where a function goes to reach the server: the VPC's private subnets, with the client security group. */
  get clientPlacement(): ConnectClientPlacement {
    return { vpc: this.vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [this.clientSecurityGroup] };
  }

  /** Lets another connectable (a function with its own security group) open HTTPS connections to Connect. */
  allowFrom(other: ec2.IConnectable, description = 'a client of 1Password Connect'): void {
    this.connections.allowDefaultPortFrom(other, description);
  }

  /** Targets the balancer considers unhealthy. @default maximum over 1 minute */
  metricUnhealthyTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.unhealthyHostCount({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }

  /** Targets the balancer considers healthy. @default minimum over 1 minute */
  metricHealthyTargets(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.healthyHostCount({ statistic: cloudwatch.Stats.MINIMUM, period: Duration.minutes(1), ...props });
  }

  /** 5xx answers from Connect itself. @default sum over 5 minutes */
  metricConnect5xx(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(5), ...props });
  }

  /** 5xx answers from the balancer (no healthy target, target unreachable). @default sum over 5 minutes */
  metricLoadBalancer5xx(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(5), ...props });
  }

  /** Requests to Connect. @default sum over 5 minutes */
  metricRequests(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.requestCount({ period: Duration.minutes(5), ...props });
  }

  /** Connect's response time in seconds. @default p99 over 5 minutes */
  metricResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.targetResponseTime({ statistic: cloudwatch.Stats.p(99), period: Duration.minutes(5), ...props });
  }

  private createTaskDefinition(props: ConnectServerProps): ecs.FargateTaskDefinition {
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.ARM64,
      },
    });
    // Task storage shared by both containers: sync writes the vault copy, the API reads it.
    taskDefinition.addVolume({ name: 'data' });
    const repository = props.imageRepositoryPrefix ?? '1password';
    const session = ecs.Secret.fromSecretsManager(props.credentialsSecret);
    const containers = [
      { name: 'connect-api', version: props.apiVersion, port: CONNECT_API_PORT, bus: BUS.api, peer: BUS.sync },
      { name: 'connect-sync', version: props.syncVersion, port: CONNECT_SYNC_PORT, bus: BUS.sync, peer: BUS.api },
    ];
    for (const spec of containers) {
      const version = this.checkedVersion(spec.name, spec.version ?? DEFAULT_CONNECT_VERSION);
      const container = taskDefinition.addContainer(spec.name, {
        containerName: spec.name,
        image: ecs.ContainerImage.fromRegistry(`${repository}/${spec.name}:${version}`),
        essential: true,
        user: CONNECT_USER,
        environment: {
          OP_HTTP_PORT: String(spec.port),
          OP_BUS_PORT: String(spec.bus),
          OP_BUS_PEERS: `localhost:${spec.peer}`,
          OP_LOG_LEVEL: 'info',
        },
        secrets: { OP_SESSION: session },
        portMappings: [{ containerPort: spec.port, protocol: ecs.Protocol.TCP }],
        healthCheck: {
          // The images ship BusyBox wget; /heartbeat answers as soon as the process serves HTTP.
          command: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${spec.port}/heartbeat || exit 1`],
          interval: Duration.seconds(30),
          timeout: Duration.seconds(5),
          retries: 3,
          startPeriod: Duration.seconds(30),
        },
        logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: spec.name }),
      });
      container.addMountPoints({ sourceVolume: 'data', containerPath: CONNECT_DATA_PATH, readOnly: false });
    }
    return taskDefinition;
  }

  private resolveCertificate(props: ConnectServerProps): acm.ICertificate {
    if (props.certificate) {
      if (props.hostedZone) this.fail('set either certificate or hostedZone (to create a certificate), not both');
      return props.certificate;
    }
    if (!props.hostedZone) {
      this.fail(`no certificate for ${this.domainName}: set certificate (an existing ACM certificate) or hostedZone (a public zone to validate a new one in)`);
    }
    const zoneName = props.hostedZone.zoneName.replace(/\.$/, '');
    if (!Token.isUnresolved(zoneName) && !`.${this.domainName}`.endsWith(`.${zoneName}`)) {
      this.fail(`domainName ${this.domainName} is not in hostedZone ${zoneName}`);
    }
    return new acm.Certificate(this, 'Certificate', {
      domainName: this.domainName,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });
  }

  /** The name resolves to the balancer inside the VPC only: nothing about Connect is published. */
  private createPrivateName(): void {
    const zone = new route53.PrivateHostedZone(this, 'PrivateZone', {
      zoneName: this.domainName,
      vpc: this.vpc,
      comment: 'op-lambda: 1Password Connect, resolvable inside the VPC only',
    });
    new route53.ARecord(this, 'AliasRecord', {
      zone,
      target: route53.RecordTarget.fromAlias(new LoadBalancerTarget(this.loadBalancer)),
    });
  }

  private createSecretsManagerEndpoint(subnets: ec2.SubnetSelection, clients: ec2.ISecurityGroup[]): void {
    const endpoint = this.vpc.addInterfaceEndpoint(`${this.node.id}SecretsManager`, {
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets,
      privateDnsEnabled: true,
      open: false,
    });
    for (const client of clients) endpoint.connections.allowDefaultPortFrom(client, 'Secrets Manager over the VPC endpoint');
  }

  private privateSubnets(): ec2.SubnetSelection {
    const selection: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    let zones: string[];
    try {
      zones = this.vpc.selectSubnets(selection).availabilityZones;
    } catch {
      zones = [];
    }
    if (new Set(zones).size < 2) {
      this.fail('the VPC needs private subnets with egress (NAT) in at least two availability zones: connect-sync reaches 1Password.com through them');
    }
    return selection;
  }

  private checkedDomainName(domainName: string): string {
    if (Token.isUnresolved(domainName)) this.fail('domainName must be a literal known at synth time');
    if (!HOST_NAME.test(domainName)) this.fail(`domainName ${JSON.stringify(domainName)} is not a DNS name (e.g. connect.example.com)`);
    return domainName.toLowerCase();
  }

  private checkedDesiredCount(count: number): number {
    if (!Number.isInteger(count) || count < 2) {
      this.fail(`desiredCount must be an integer of at least 2 (one task per availability zone), got ${count}`);
    }
    return count;
  }

  private checkedVersion(image: string, version: string): string {
    if (!PINNED_VERSION.test(version)) {
      this.fail(`${image} version ${JSON.stringify(version)} must be pinned: x.y.z, optionally @sha256:<digest> (never latest)`);
    }
    return version;
  }

  private acknowledgeFindings(): void {
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The plain environment holds only ports, bus peers and the log level; the one secret (OP_SESSION) comes from Secrets Manager.',
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-ECS4',
      reason:
        'Two small tasks: the standard AWS/ECS and target-group metrics, the container health checks and the alarms cover them; ' +
        'Container Insights would add per-task custom metrics for no decision it informs.',
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'Internal balancer whose only clients are this stack’s functions: each read is already in their audit trail and ' +
        'in Connect’s own activity log, forwarded to CloudWatch; access logs would duplicate both.',
    });
  }

  private fail(message: string): never {
    throw new Error(`${this.node.path}: ${message}`);
  }
}
