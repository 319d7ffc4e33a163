import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { type ConnectServerConfig, type StageConfig, stageConfig } from '../../infra/config';
import { CONNECT_DATA_PATH, ConnectServer, type ConnectServerProps, DEFAULT_CONNECT_VERSION } from '../../infra/constructs/connect-server';
import { defineApp } from '../../infra/define-app';
import type { ApiStack } from '../../infra/stacks/api-stack';
import { createTestApp, resourcesOfType, type TestApp, validationViolations } from './synth';

const CREDENTIALS_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-lambda/test/connect-credentials-AbCdEf';
const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

interface ContainerDefinition {
  Name: string;
  Image: string;
  User: string;
  Environment: { Name: string; Value: string }[];
  Secrets: { Name: string; ValueFrom: unknown }[];
  MountPoints: { SourceVolume: string; ContainerPath: string; ReadOnly: boolean }[];
  HealthCheck: { Command: string[] };
  LogConfiguration: { LogDriver: string; Options: Record<string, unknown> };
  PortMappings: { ContainerPort: number }[];
}

type Resources = ReturnType<typeof resourcesOfType>;

const apps: TestApp[] = [];
afterAll(() => apps.forEach((testApp) => testApp.cleanup()));

function newTestApp(context: Record<string, unknown> = {}): TestApp {
  const testApp = createTestApp({ context, skipBundling: true });
  apps.push(testApp);
  return testApp;
}

/** The one resource of a type, by logical id. */
function only(template: Template, type: string): [string, Resources[string]] {
  const found = Object.entries(resourcesOfType(template, type));
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('ConnectServer', () => {
  function build(overrides: Partial<ConnectServerProps> = {}): { stack: Stack; server: ConnectServer; template: Template } {
    const stack = new Stack(newTestApp().app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
    const server = new ConnectServer(stack, 'Connect', {
      vpc,
      credentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Credentials', CREDENTIALS_ARN),
      domainName: 'connect.example.com',
      hostedZone: route53.PublicHostedZone.fromPublicHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' }),
      ...overrides,
    });
    return { stack, server, template: Template.fromStack(stack) };
  }

  function containers(template: Template): ContainerDefinition[] {
    return only(template, 'AWS::ECS::TaskDefinition')[1].Properties!.ContainerDefinitions as ContainerDefinition[];
  }

  function securityGroupId(stack: Stack, group: ec2.ISecurityGroup): string {
    return stack.getLogicalId(group.node.defaultChild as CfnElement);
  }

  describe('with defaults', () => {
    let stack: Stack;
    let server: ConnectServer;
    let template: Template;
    beforeAll(() => ({ stack, server, template } = build()));

    it('runs connect-api and connect-sync, both pinned to the default version', () => {
      expect(containers(template).map((c) => [c.Name, c.Image])).toEqual([
        ['connect-api', `1password/connect-api:${DEFAULT_CONNECT_VERSION}`],
        ['connect-sync', `1password/connect-sync:${DEFAULT_CONNECT_VERSION}`],
      ]);
      expect(DEFAULT_CONNECT_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    });

    it('mounts one task volume at /home/opuser/.op/data in both containers', () => {
      const volumes = only(template, 'AWS::ECS::TaskDefinition')[1].Properties!.Volumes as { Name: string }[];
      expect(volumes).toEqual([{ Name: 'data' }]);
      for (const container of containers(template)) {
        expect(container.MountPoints).toEqual([{ SourceVolume: 'data', ContainerPath: CONNECT_DATA_PATH, ReadOnly: false }]);
      }
      expect(CONNECT_DATA_PATH).toBe('/home/opuser/.op/data');
    });

    it('gives both containers the credentials from the secret as OP_SESSION, never as a plain variable', () => {
      for (const container of containers(template)) {
        expect(container.Secrets).toEqual([{ Name: 'OP_SESSION', ValueFrom: CREDENTIALS_ARN }]);
        expect(container.Environment.map((variable) => variable.Name)).not.toContain('OP_SESSION');
      }
      const [, policy] = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy')).find(([id]) => id.includes('ExecutionRole'))!;
      const statements = (policy.Properties!.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement;
      const secretRead = statements.filter((s) => [s.Action].flat().some((action) => action.startsWith('secretsmanager:')));
      expect(secretRead.map((s) => s.Resource)).toEqual([CREDENTIALS_ARN]);
    });

    it('runs both containers as uid 999, never as root', () => {
      expect(containers(template).map((c) => c.User)).toEqual(['999', '999']);
    });

    it('gives each container its own HTTP and bus port, each naming the other as its bus peer', () => {
      const env = (name: string): Record<string, string> =>
        Object.fromEntries(containers(template).find((c) => c.Name === name)!.Environment.map((v) => [v.Name, v.Value]));
      expect(env('connect-api')).toMatchObject({ OP_HTTP_PORT: '8080', OP_BUS_PORT: '11220', OP_BUS_PEERS: 'localhost:11221' });
      expect(env('connect-sync')).toMatchObject({ OP_HTTP_PORT: '8081', OP_BUS_PORT: '11221', OP_BUS_PEERS: 'localhost:11220' });
    });

    it('health-checks each container on its own /heartbeat and logs to a group with retention', () => {
      for (const container of containers(template)) {
        const port = container.PortMappings[0]!.ContainerPort;
        expect(container.HealthCheck.Command.join(' ')).toContain(`http://127.0.0.1:${port}/heartbeat`);
        expect(container.LogConfiguration.LogDriver).toBe('awslogs');
        expect(container.LogConfiguration.Options['awslogs-group']).toEqual({ Ref: stack.getLogicalId(server.logGroup.node.defaultChild as CfnElement) });
      }
      expect(only(template, 'AWS::Logs::LogGroup')[1].Properties!.RetentionInDays).toBe(30);
    });

    it('keeps two tasks in the private subnets of two zones, without public addresses', () => {
      const [, service] = only(template, 'AWS::ECS::Service');
      const network = (service.Properties!.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown[] } })
        .AwsvpcConfiguration;
      expect(service.Properties!.DesiredCount).toBe(2);
      expect(service.Properties!.LaunchType).toBe('FARGATE');
      expect(network.AssignPublicIp).toBe('DISABLED');
      const privateSubnets = stack.resolve(server.vpc.privateSubnets.map((subnet) => subnet.subnetId)) as unknown[];
      expect(network.Subnets).toEqual(privateSubnets);
      expect(privateSubnets).toHaveLength(2);
    });

    it('serves HTTPS on 443 from an internal load balancer, with the certificate, forwarding to connect-api', () => {
      expect(only(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[1].Properties!.Scheme).toBe('internal');
      const [certificateId, certificate] = only(template, 'AWS::CertificateManager::Certificate');
      expect(certificate.Properties).toMatchObject({
        DomainName: 'connect.example.com',
        ValidationMethod: 'DNS',
        DomainValidationOptions: [{ DomainName: 'connect.example.com', HostedZoneId: 'Z123' }],
      });
      const [, listener] = only(template, 'AWS::ElasticLoadBalancingV2::Listener');
      expect(listener.Properties).toMatchObject({ Port: 443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: { Ref: certificateId } }] });
      expect(listener.Properties!.SslPolicy).toMatch(/TLS13/);
      const [, targetGroup] = only(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      expect(targetGroup.Properties).toMatchObject({ Port: 8080, TargetType: 'ip', HealthCheckPath: '/heartbeat' });
      expect(server.url).toBe('https://connect.example.com');
    });

    it('admits connections to the load balancer from the functions’ security group only, and to the tasks from the load balancer only', () => {
      const balancer = securityGroupId(stack, server.loadBalancer.connections.securityGroups[0]!);
      const tasks = securityGroupId(stack, server.service.connections.securityGroups[0]!);
      const clients = securityGroupId(stack, server.clientSecurityGroup);
      const inline = Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroup')).flatMap(
        (group) => (group.Properties!.SecurityGroupIngress as unknown[] | undefined) ?? [],
      );
      expect(inline).toEqual([]);
      const ingress = Object.values(resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')).map((rule) => rule.Properties!);
      const into = (group: string): unknown[] => ingress.filter((rule) => JSON.stringify(rule.GroupId).includes(`"${group}"`));
      expect(into(balancer)).toEqual([
        expect.objectContaining({ FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [clients, 'GroupId'] } }),
      ]);
      expect(into(tasks)).toEqual([
        expect.objectContaining({ FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: { 'Fn::GetAtt': [balancer, 'GroupId'] } }),
      ]);
      for (const rule of ingress) expect(rule).not.toHaveProperty('CidrIp');
    });

    it('lets the functions out on HTTPS only', () => {
      const group = resourcesOfType(template, 'AWS::EC2::SecurityGroup')[securityGroupId(stack, server.clientSecurityGroup)]!;
      expect(group.Properties!.SecurityGroupEgress).toEqual([
        { CidrIp: '0.0.0.0/0', Description: 'HTTPS only', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' },
      ]);
      expect(server.clientPlacement).toEqual({
        vpc: server.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [server.clientSecurityGroup],
      });
    });

    it('resolves its name to the load balancer inside the VPC only', () => {
      const [zoneId, zone] = only(template, 'AWS::Route53::HostedZone');
      expect(zone.Properties).toMatchObject({ Name: 'connect.example.com.', VPCs: [{ VPCId: { Ref: expect.stringMatching(/^Vpc/) } }] });
      const [, record] = only(template, 'AWS::Route53::RecordSet');
      expect(record.Properties).toMatchObject({ HostedZoneId: { Ref: zoneId }, Type: 'A', Name: 'connect.example.com.' });
      expect(JSON.stringify(record.Properties!.AliasTarget)).toContain(stack.getLogicalId(server.loadBalancer.node.defaultChild as CfnElement));
    });

    it('opens a private Secrets Manager endpoint to the functions and the tasks', () => {
      const [, endpoint] = only(template, 'AWS::EC2::VPCEndpoint');
      expect(endpoint.Properties).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
      expect(JSON.stringify(endpoint.Properties!.ServiceName)).toContain('secretsmanager');
    });
  });

  it('uses an existing certificate and pinned versions given as props', () => {
    const stack = new Stack(newTestApp().app, 'Test');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, restrictDefaultSecurityGroup: false });
    new ConnectServer(stack, 'Connect', {
      vpc,
      credentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Credentials', CREDENTIALS_ARN),
      domainName: 'connect.example.com',
      certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN),
      apiVersion: '1.7.3',
      syncVersion: `1.7.3@sha256:${'a'.repeat(64)}`,
      desiredCount: 3,
      secretsManagerEndpoint: false,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Certificates: [{ CertificateArn: CERTIFICATE_ARN }] });
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    expect(containers(template).map((c) => c.Image)).toEqual(['1password/connect-api:1.7.3', `1password/connect-sync:1.7.3@sha256:${'a'.repeat(64)}`]);
  });

  describe('validates its props at synth', () => {
    const cases: [string, Partial<ConnectServerProps>, string][] = [
      ['a single task', { desiredCount: 1 }, 'desiredCount must be an integer of at least 2'],
      ['an unpinned image', { apiVersion: 'latest' }, 'connect-api version "latest" must be pinned'],
      ['a bad domain name', { domainName: 'https://connect.example.com' }, 'is not a DNS name'],
      ['a domain outside the hosted zone', { domainName: 'connect.example.org' }, 'domainName connect.example.org is not in hostedZone example.com'],
      ['neither certificate nor zone', { hostedZone: undefined }, 'no certificate for connect.example.com: set certificate'],
    ];
    it.each(cases)('refuses %s', (_, overrides, message) => {
      expect(() => build(overrides)).toThrow(message);
      expect(() => build(overrides)).toThrow(/^Test\/Connect: /);
    });

    it('refuses a certificate together with a zone', () => {
      const stack = new Stack(newTestApp().app, 'Other');
      const certificate = acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN);
      expect(() => build({ certificate })).toThrow('set either certificate or hostedZone');
    });

    it('refuses a VPC without private subnets in two zones', () => {
      const stack = new Stack(newTestApp().app, 'Test');
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, restrictDefaultSecurityGroup: false });
      expect(
        () =>
          new ConnectServer(stack, 'Connect', {
            vpc,
            credentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Credentials', CREDENTIALS_ARN),
            domainName: 'connect.example.com',
            certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN),
          }),
      ).toThrow('the VPC needs private subnets with egress (NAT) in at least two availability zones');
    });
  });
});

describe('a stage that deploys its Connect server', () => {
  let testApp: TestApp;
  let stack: ApiStack;
  let template: Template;
  const config = stageConfig('staging');
  const server = config.connect.server!;

  beforeAll(() => {
    testApp = newTestApp();
    stack = defineApp(testApp.app);
    template = Template.fromStack(stack);
  });

  it('is what the reference stages do by default', () => {
    expect(stageConfig('staging').connect.server).toBeDefined();
    expect(stageConfig('prod').connect.server).toBeDefined();
    expect(stageConfig('prod').connect.host).toBeUndefined();
    expect(stack.connectServer?.url).toBe(`https://${server.domainName}`);
  });

  it('places every function in the private subnets with the functions’ security group, calling the server by its https name', () => {
    const clients = stack.getLogicalId(stack.connectServer!.clientSecurityGroup.node.defaultChild as CfnElement);
    const privateSubnets = stack.resolve(stack.connectServer!.vpc.privateSubnets.map((subnet) => subnet.subnetId)) as unknown[];
    const functions = Object.values(resourcesOfType(template, 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(config.functions.length + 3);
    for (const fn of functions) {
      expect(fn.Properties!.VpcConfig).toEqual({ SecurityGroupIds: [{ 'Fn::GetAtt': [clients, 'GroupId'] }], SubnetIds: privateSubnets });
      expect((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.OP_CONNECT_HOST).toBe(`https://${server.domainName}`);
    }
  });

  it('reads the credentials from the configured secret', () => {
    const containers = only(template, 'AWS::ECS::TaskDefinition')[1].Properties!.ContainerDefinitions as ContainerDefinition[];
    for (const container of containers) expect(JSON.stringify(container.Secrets)).toContain(`:secret:${server.credentialsSecretName}`);
  });

  it('creates its VPC: two zones, NAT for connect-sync and the payments provider, rejected flows logged', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
  });

  it('alarms on unhealthy targets, Connect 5xx and load balancer 5xx', () => {
    const targetGroup = only(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0];
    const alarm = (metricName: string): Record<string, unknown> => {
      const found = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter((a) => a.Properties!.MetricName === metricName);
      expect(found).toHaveLength(1);
      return found[0]!.Properties!;
    };
    expect(alarm('UnHealthyHostCount')).toMatchObject({ Namespace: 'AWS/ApplicationELB', Statistic: 'Maximum', Threshold: 1, AlarmName: 'op-lambda-staging-connect-unhealthy-targets' });
    expect(JSON.stringify(alarm('UnHealthyHostCount').Dimensions)).toContain(targetGroup);
    expect(alarm('HTTPCode_Target_5XX_Count')).toMatchObject({ Statistic: 'Sum', Threshold: 1, AlarmName: 'op-lambda-staging-connect-5xx' });
    expect(alarm('HTTPCode_ELB_5XX_Count')).toMatchObject({ Statistic: 'Sum', Threshold: 1, AlarmName: 'op-lambda-staging-connect-lb-5xx' });
  });

  it('has a Connect row on the stage dashboard', () => {
    const body = JSON.stringify(only(template, 'AWS::CloudWatch::Dashboard')[1].Properties!.DashboardBody);
    for (const metric of ['HealthyHostCount', 'UnHealthyHostCount', 'HTTPCode_Target_5XX_Count', 'TargetResponseTime', 'CPUUtilization']) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    expect(body).toContain('1Password Connect');
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    expect(validationViolations(testApp.app)).toEqual([]);
  });

  it('synthesizes without any context lookup, even with an account and region', () => {
    const app = newTestApp().app;
    defineApp(app, { config: { ...config, account: '123456789012', region: 'eu-west-1' } });
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });
});

describe('stage variants', () => {
  const base = stageConfig('staging');
  const withConnect = (connect: StageConfig['connect']): StageConfig => ({ ...base, connect });

  it('names an existing server by host: no VPC, no ECS, functions outside any VPC', () => {
    const testApp = newTestApp();
    const stack = defineApp(testApp.app, { config: withConnect({ host: 'https://connect.example.net' }) });
    const template = Template.fromStack(stack);
    for (const type of ['AWS::EC2::VPC', 'AWS::ECS::Service', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::EC2::SecurityGroup']) {
      template.resourceCountIs(type, 0);
    }
    for (const fn of Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))) {
      expect(fn.Properties!.VpcConfig).toBeUndefined();
      expect((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.OP_CONNECT_HOST).toBe('https://connect.example.net');
    }
    expect(stack.connectServer).toBeUndefined();
    expect(validationViolations(testApp.app)).toEqual([]);
  });

  it('imports an existing VPC from its attributes and uses an existing certificate', () => {
    const server: ConnectServerConfig = {
      domainName: 'connect.internal.example.com',
      certificateArn: CERTIFICATE_ARN,
      credentialsSecretName: 'op-lambda/staging/connect-credentials',
      vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
        privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0fedcba9876543210'],
      },
    };
    const testApp = newTestApp();
    const template = Template.fromStack(defineApp(testApp.app, { config: withConnect({ server }) }));
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ Subnets: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.objectLike({ SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'] }) });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Certificates: [{ CertificateArn: CERTIFICATE_ARN }] });
    expect(validationViolations(testApp.app)).toEqual([]);
  });

  it('refuses an imported VPC whose zones or route tables do not pair with its subnets', () => {
    const server: ConnectServerConfig = {
      ...base.connect.server!,
      vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'], privateSubnetRouteTableIds: [] },
    };
    expect(() => defineApp(newTestApp().app, { config: withConnect({ server }) })).toThrow(
      'connect.server.vpc: give one availability zone and one route table per private subnet (2 subnets, 1 zones, 0 route tables)',
    );
  });

  it.each([
    ['both a host and a server', { host: 'https://connect.example.net', server: base.connect.server }],
    ['neither a host nor a server', {}],
  ])('refuses %s', (_, connect) => {
    expect(() => defineApp(newTestApp().app, { config: withConnect({ ...connect }) })).toThrow(
      'connect: set exactly one of host (an existing Connect server) and server (one this stage deploys)',
    );
  });
});
