/**
 * The gateway's building blocks — route selection, intrinsic resolution, response mapping,
 * template reading — and a gateway over a hand-written cloud assembly (named stage,
 * `$default` route, cross-stack function, payload format 1.0, malformed responses).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCloudAssembly, type CfnTemplate } from '../../local/gateway/cloud-assembly';
import { isTextContentType } from '../../local/gateway/event';
import { resolveString, type IntrinsicContext } from '../../local/gateway/intrinsics';
import { mapFunctionResponse } from '../../local/gateway/response';
import { RouteTable } from '../../local/gateway/routes';
import { startGateway, type LocalGateway } from '../../local/gateway/server';
import { buildEmulationModel } from '../../local/gateway/template-model';

describe('route selection', () => {
  const table = new RouteTable<string>();
  for (const key of ['GET /pets', 'GET /pets/{id}', 'ANY /pets/{id}', 'GET /pets/dog', 'ANY /pets/{proxy+}', 'ANY /{proxy+}', 'POST /a/{b}/c', '$default']) {
    table.add(key, key);
  }
  const selected = (method: string, path: string): string | undefined => table.match(method, path)?.routeKey;

  test.each([
    ['GET', '/pets', 'GET /pets'],
    ['GET', '/pets/dog', 'GET /pets/dog'],
    ['GET', '/pets/cat', 'GET /pets/{id}'],
    ['PUT', '/pets/cat', 'ANY /pets/{id}'],
    ['GET', '/pets/cat/toys', 'ANY /pets/{proxy+}'],
    ['GET', '/other/deep/path', 'ANY /{proxy+}'],
    ['POST', '/a/x/c', 'POST /a/{b}/c'],
    ['GET', '/', '$default'],
    ['POST', '/pets', 'ANY /{proxy+}'],
  ])('%s %s -> %s', (method, path, routeKey) => {
    expect(selected(method, path)).toBe(routeKey);
  });

  test('path parameters are decoded; greedy ones keep their slashes', () => {
    expect(table.match('GET', '/pets/a%2Fb')?.pathParameters).toEqual({ id: 'a/b' });
    expect(table.match('GET', '/pets/x/y%20z')?.pathParameters).toEqual({ proxy: 'x/y z' });
  });

  test('without $default, nothing matches an unknown path; duplicates are refused', () => {
    const strict = new RouteTable<string>();
    strict.add('GET /only', 'only');
    expect(strict.match('GET', '/only/')).toBeUndefined();
    expect(strict.match('GET', '/other')).toBeUndefined();
    expect(strict.add('GET /only', 'again')).toBe(false);
  });
});

describe('intrinsic functions', () => {
  const template: CfnTemplate = {
    Parameters: { Stage: { Default: 'staging' } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
    Mappings: { Hosts: { staging: { url: 'https://connect.staging.example.com' } } },
    Resources: {
      Token: { Type: 'AWS::SecretsManager::Secret' },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'cursor' } },
      Queue: { Type: 'AWS::SQS::Queue' },
      Fn: { Type: 'AWS::Lambda::Function' },
    },
  };
  const ctx: IntrinsicContext = { template, stackName: 'Api', region: 'eu-west-1', accountId: '000000000000', refOverrides: new Map([['Fn', 'Health']]) };
  const resolve = (value: unknown): string | undefined => resolveString(value, ctx);

  test('Ref and Fn::GetAtt give plausible names and ARNs', () => {
    expect(resolve({ Ref: 'Token' })).toBe('arn:aws:secretsmanager:eu-west-1:000000000000:secret:Token');
    expect(resolve({ Ref: 'Table' })).toBe('cursor');
    expect(resolve({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe('arn:aws:dynamodb:eu-west-1:000000000000:table/cursor');
    expect(resolve({ 'Fn::GetAtt': ['Queue', 'QueueUrl'] })).toBe('https://sqs.eu-west-1.amazonaws.com/000000000000/Queue');
    expect(resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe('arn:aws:lambda:eu-west-1:000000000000:function:Health');
    expect(resolve({ Ref: 'Stage' })).toBe('staging');
    expect(resolve({ Ref: 'AWS::Region' })).toBe('eu-west-1');
    expect(resolve({ Ref: 'AWS::NoValue' })).toBeUndefined();
  });

  test('Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and Fn::FindInMap are evaluated', () => {
    expect(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'AWS::AccountId' }]] })).toBe('a-000000000000');
    expect(resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Table}/${!Literal}' })).toBe('arn:aws:s3:::cursor/${Literal}');
    expect(resolve({ 'Fn::Sub': ['${Host}/v1', { Host: 'h' }] })).toBe('h/v1');
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] })).toBe('b');
    expect(resolve({ 'Fn::If': ['IsProd', 'prod-vault', 'staging-vault'] })).toBe('staging-vault');
    expect(resolve({ 'Fn::FindInMap': ['Hosts', { Ref: 'Stage' }, 'url'] })).toBe('https://connect.staging.example.com');
  });

  test('what cannot be resolved says why', () => {
    expect(() => resolve({ Ref: 'Nope' })).toThrow(/Nope/);
    expect(() => resolve({ 'Fn::Transform': {} })).toThrow(/not supported/);
  });
});

describe('response mapping', () => {
  test('plain values become 200 application/json', () => {
    const mapped = mapFunctionResponse({ ok: true });
    expect(mapped).toEqual({ ok: true, response: { statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"ok":true}') } });
    const text = mapFunctionResponse('hello');
    expect(text.ok && text.response.body.toString()).toBe('hello');
  });

  test('multiValueHeaders merge with headers; cookies become Set-Cookie; framing headers are dropped', () => {
    const mapped = mapFunctionResponse({
      statusCode: 302,
      headers: { Location: '/next', 'Content-Length': '999' },
      multiValueHeaders: { 'X-Tag': ['a', 'b'], 'Set-Cookie': ['x=1'] },
      cookies: ['y=2'],
    });
    expect(mapped.ok && mapped.response.headers).toEqual([['x-tag', 'a,b'], ['set-cookie', 'x=1'], ['location', '/next'], ['set-cookie', 'y=2']]);
  });

  test('responses API Gateway would reject are malformed', () => {
    expect(mapFunctionResponse({ statusCode: '200' }).ok).toBe(false);
    expect(mapFunctionResponse({ statusCode: 200, body: { not: 'a string' } }).ok).toBe(false);
    expect(mapFunctionResponse({ statusCode: 200, headers: { bad: { nested: true } } }).ok).toBe(false);
  });
});

describe('event details', () => {
  test.each([
    ['application/json', true], ['application/problem+json', true], ['text/plain; charset=utf-8', true], ['application/xml', true],
    ['application/x-www-form-urlencoded', false], ['application/octet-stream', false], ['multipart/form-data; boundary=x', false], [undefined, false],
  ])('content type %s is text: %s', (contentType, text) => {
    expect(isTextContentType(contentType)).toBe(text);
  });
});

/** A cloud assembly written by hand: two stacks, the function in one, the API in the other. */
function writeAssembly(root: string): void {
  mkdirSync(join(root, 'asset.fn'));
  writeFileSync(join(root, 'asset.fn', 'index.js'), `
    exports.handler = async (event) => {
      if (event.rawPath.endsWith('/malformed')) return { statusCode: 200, body: { not: 'a string' } };
      return { statusCode: 200, body: JSON.stringify({ routeKey: event.routeKey, rawPath: event.rawPath, stage: event.requestContext.stage, stageVariables: event.stageVariables, table: process.env.TABLE, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME }) };
    };`);
  const functions = {
    Resources: {
      Shared1234: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'demo-shared', Handler: 'index.handler', Runtime: 'nodejs22.x', Environment: { Variables: { TABLE: { 'Fn::ImportValue': 'Data:TableName' } } } },
        Metadata: { 'aws:cdk:path': 'Functions/Shared/Function/Resource', 'aws:asset:path': 'asset.fn' },
      },
      Python1234: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'app.handler', Runtime: 'python3.13' }, Metadata: { 'aws:cdk:path': 'Functions/Python/Resource', 'aws:asset:path': 'asset.fn' } },
    },
    Outputs: { Export: { Value: { 'Fn::GetAtt': ['Shared1234', 'Arn'] }, Export: { Name: 'Functions:SharedArn' } } },
  };
  const data = { Resources: { Cursor: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'cursor-table' } } }, Outputs: { T: { Value: { Ref: 'Cursor' }, Export: { Name: 'Data:TableName' } } } };
  const integration = (payloadFormatVersion: string) => ({
    Type: 'AWS::ApiGatewayV2::Integration',
    Properties: { ApiId: { Ref: 'Api' }, IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::ImportValue': 'Functions:SharedArn' }, PayloadFormatVersion: payloadFormatVersion },
  });
  const route = (routeKey: string, target: string) => ({
    Type: 'AWS::ApiGatewayV2::Route',
    Properties: { ApiId: { Ref: 'Api' }, RouteKey: routeKey, Target: { 'Fn::Join': ['', ['integrations/', { Ref: target }]] } },
  });
  const api = {
    Resources: {
      Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'demo', ProtocolType: 'HTTP' } },
      Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: { Ref: 'Api' }, StageName: 'v1', StageVariables: { flavour: 'local' } } },
      V2: integration('2.0'),
      V1: integration('1.0'),
      Default: route('$default', 'V2'),
      Health: route('GET /health', 'V2'),
      Legacy: route('GET /legacy', 'V1'),
    },
  };
  const templates: Record<string, unknown> = { 'Functions.template.json': functions, 'Data.template.json': data, 'Api.template.json': api };
  for (const [file, template] of Object.entries(templates)) writeFileSync(join(root, file), JSON.stringify(template));
  const stack = (file: string) => ({ type: 'aws:cloudformation:stack', properties: { templateFile: file } });
  writeFileSync(join(root, 'manifest.json'), JSON.stringify({
    version: '48.0.0',
    artifacts: { Functions: stack('Functions.template.json'), Data: stack('Data.template.json'), Api: stack('Api.template.json') },
  }));
}

describe('a hand-written cloud assembly', () => {
  let root: string;
  let gateway: LocalGateway;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'op-lambda-assembly-'));
    writeAssembly(root);
    gateway = await startGateway({ cdkOut: root });
  });

  afterAll(async () => {
    await gateway?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('the model follows stack exports to the function and explains what it skips', () => {
    const model = buildEmulationModel(readCloudAssembly(root), { region: 'us-east-1', accountId: '000000000000', cdkOut: root, stacks: ['Functions', 'Api'] });
    expect(model.functions.map((fn) => [fn.name, fn.deployedName])).toEqual([['Shared', 'demo-shared']]);
    expect(model.functions[0]?.environment).toEqual({ TABLE: 'cursor-table' });
    expect(model.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/Python.*python3\.13 is not emulated/), expect.stringMatching(/GET \/legacy: payload format 1\.0/)]));
    expect(() => buildEmulationModel(readCloudAssembly(root), { region: 'us-east-1', accountId: '000000000000', cdkOut: root, stacks: ['Nope'] })).toThrow(/Nope is not in the cloud assembly/);
    expect(() => readCloudAssembly(join(root, 'missing'))).toThrow(/manifest\.json is missing/);
    const dataOnly = buildEmulationModel(readCloudAssembly(root), { region: 'us-east-1', accountId: '000000000000', cdkOut: root, stacks: ['Data'] });
    expect(dataOnly.warnings).toEqual([expect.stringMatching(/no HTTP API/)]);
  });

  test('a named stage prefixes the path; rawPath keeps it, routing does not', async () => {
    expect(gateway.routes).toEqual(expect.arrayContaining([{ routeKey: 'GET /health', functionName: 'Shared', stage: 'v1' }]));
    const response = await fetch(`${gateway.url}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ routeKey: 'GET /health', rawPath: '/v1/health', stage: 'v1', stageVariables: { flavour: 'local' }, table: 'cursor-table', functionName: 'demo-shared' });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(404);
  });

  test('$default takes what no other route matches', async () => {
    const response = await fetch(`${gateway.url}/v1/anything/else`, { method: 'PATCH' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ routeKey: '$default', rawPath: '/v1/anything/else' });
  });

  test('payload format 1.0 routes and malformed responses answer 500, with the reason recorded', async () => {
    const legacy = await fetch(`${gateway.url}/v1/legacy`);
    expect(legacy.status).toBe(500);
    expect(gateway.requests.at(-1)?.gatewayError).toMatch(/payload format 1\.0/);
    const malformed = await fetch(`${gateway.url}/v1/malformed`);
    expect(malformed.status).toBe(500);
    expect(await malformed.json()).toEqual({ message: 'Internal Server Error' });
    expect(gateway.requests.at(-1)?.gatewayError).toMatch(/body must be a string/);
  });
});
