/**
 * Where a stage's functions find 1Password Connect: the server the stage deploys (built here from
 * the config's `connect.server` block, in a VPC created or imported without any lookup), or an
 * existing one named by `connect.host`.
 */
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { type ConnectConfig, type ConnectServerConfig, connectUrl, type ExistingVpcConfig } from '../config';
import { type ConnectClientPlacement, ConnectServer } from 'op-lambda/cdk';

export interface ConnectEndpoint {
  /** OP_CONNECT_HOST of every function. */
  readonly host: string;
  /** Present when the stage deploys its own server. */
  readonly server?: ConnectServer;
  /** VPC placement of the functions; absent for an existing server reached over the internet. */
  readonly placement?: ConnectClientPlacement;
}

export function connectEndpoint(scope: Construct, connect: ConnectConfig): ConnectEndpoint {
  const host = connectUrl(connect);
  if (!connect.server) return { host };
  const server = createConnectServer(scope, connect.server);
  return { host, server, placement: server.clientPlacement };
}

function createConnectServer(scope: Construct, config: ConnectServerConfig): ConnectServer {
  const vpc = config.vpc ? importVpc(scope, config.vpc) : createVpc(scope, config.natGateways ?? 1);
  return new ConnectServer(scope, 'ConnectServer', {
    vpc,
    domainName: config.domainName,
    credentialsSecret: secretsmanager.Secret.fromSecretNameV2(scope, 'ConnectCredentials', config.credentialsSecretName),
    certificate: config.certificateArn === undefined ? undefined : acm.Certificate.fromCertificateArn(scope, 'ConnectCertificate', config.certificateArn),
    hostedZone: config.hostedZone && route53.PublicHostedZone.fromPublicHostedZoneAttributes(scope, 'ConnectZone', config.hostedZone),
    desiredCount: config.taskCount,
    cpu: config.cpu,
    memoryLimitMiB: config.memoryMiB,
    apiVersion: config.apiVersion,
    syncVersion: config.syncVersion,
    logRetention: config.logRetention,
    secretsManagerEndpoint: config.secretsManagerEndpoint,
  });
}

function importVpc(scope: Construct, vpc: ExistingVpcConfig): ec2.IVpc {
  const subnets = vpc.privateSubnetIds.length;
  if (vpc.availabilityZones.length !== subnets || vpc.privateSubnetRouteTableIds.length !== subnets) {
    throw new Error(
      `connect.server.vpc: give one availability zone and one route table per private subnet ` +
        `(${subnets} subnets, ${vpc.availabilityZones.length} zones, ${vpc.privateSubnetRouteTableIds.length} route tables)`,
    );
  }
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: vpc.vpcId,
    availabilityZones: [...vpc.availabilityZones],
    privateSubnetIds: [...vpc.privateSubnetIds],
    privateSubnetRouteTableIds: [...vpc.privateSubnetRouteTableIds],
  });
}

/** Two zones of public subnets (NAT, nothing else) and private ones (Connect, the balancer, the functions). */
function createVpc(scope: Construct, natGateways: number): ec2.Vpc {
  const flowLogs = new logs.LogGroup(scope, 'VpcFlowLogs', { retention: logs.RetentionDays.ONE_MONTH });
  return new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    // Nothing uses the default security group; restricting it needs a custom-resource Lambda.
    restrictDefaultSecurityGroup: false,
    flowLogs: { rejected: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT } },
  });
}
