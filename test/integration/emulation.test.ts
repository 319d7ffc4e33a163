/**
 * The local API Gateway + Lambda emulation, end to end: a fixture CDK app is synthesized (bundled
 * with the local esbuild), and real HTTP requests go through the gateway to functions running
 * under AWS's runtime interface client.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type GatewayRequestRecord, type LocalGateway } from '../../local/gateway/server';
import { LOCAL_CLIENT_ID, startLocalIssuer, type LocalIssuer } from '../../local/issuer/server';
import { synthesizeEmulationApp } from '../fixtures/emulation-app/app';
import { BINARY_BYTES } from '../fixtures/emulation-app/handlers/binary';

interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface EchoReport {
  event: {
    routeKey: string;
    rawPath: string;
    rawQueryString: string;
    cookies?: string[];
    headers: Record<string, string>;
    queryStringParameters?: Record<string, string>;
    pathParameters?: Record<string, string>;
    body?: string;
    isBase64Encoded: boolean;
    requestContext: {
      accountId: string;
      apiId: string;
      domainName: string;
      http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
      requestId: string;
      routeKey: string;
      stage: string;
      time: string;
      timeEpoch: number;
      authorizer?: { jwt: { claims: Record<string, string>; scopes: string[] | null } };
    };
  };
  env: Record<string, string | undefined>;
  pid: number;
  remainingMs: number;
  functionName: string;
  invokedFunctionArn: string;
}

let outdir: string;
let gateway: LocalGateway;
const seenPids = new Set<number>();

function send(method: string, path: string, options: { headers?: [string, string][]; body?: Buffer | string } = {}): Promise<HttpResult> {
  const url = new URL(path, gateway.url);
  return new Promise((resolve, reject) => {
    // Raw header lists keep repeated headers apart; Node then adds no defaults, so Host goes first.
    const rawHeaders = [['Host', url.host], ...(options.headers ?? [])].flat();
    const req = httpRequest({ method, hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: rawHeaders }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function echo(method: string, path: string, options: Parameters<typeof send>[2] = {}): Promise<EchoReport> {
  const result = await send(method, path, options);
  expect(result.status).toBe(200);
  const report = JSON.parse(result.body.toString('utf8')) as EchoReport;
  seenPids.add(report.pid);
  return report;
}

function lastRecord(path: string): GatewayRequestRecord {
  const record = [...gateway.requests].reverse().find((candidate) => candidate.path === path);
  if (!record) throw new Error(`no request recorded for ${path}`);
  if (record.invoke?.pid) seenPids.add(record.invoke.pid);
  return record;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let issuer: LocalIssuer;

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

beforeAll(async () => {
  process.env.OPL_PARENT_ONLY = 'x';
  outdir = mkdtempSync(join(tmpdir(), 'op-lambda-emulation-'));
  synthesizeEmulationApp(outdir);
  issuer = await startLocalIssuer({ audience: 'op-lambda', defaultScope: 'read write' });
  gateway = await startGateway({
    cdkOut: outdir,
    region: 'eu-west-1',
    environment: { OVERRIDDEN: 'from-test', DELETE_ME: undefined },
    maxContainersPerFunction: 4,
    // The template's authorizer trusts https://issuer.example.com; locally the loopback issuer stands in.
    issuerOverrides: { 'https://issuer.example.com': issuer.url },
  });
}, 180_000);

afterAll(async () => {
  await gateway?.close();
  await issuer?.close();
  delete process.env.OPL_PARENT_ONLY;
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('template reading', () => {
  test('finds the functions, their settings and the routes', () => {
    const echoFunction = gateway.functions.find((fn) => fn.name === 'Echo');
    expect(echoFunction).toMatchObject({ handler: 'index.handler', timeoutSeconds: 5, memoryMb: 256 });
    expect(echoFunction?.codePath.startsWith(outdir)).toBe(true);
    expect(gateway.functions.map((fn) => fn.name).sort()).toEqual(['Binary', 'Cookies', 'Echo', 'InitError', 'Slow', 'Throws']);
    expect(gateway.routes).toEqual(expect.arrayContaining([
      { routeKey: 'GET /echo', functionName: 'Echo', stage: '$default' },
      { routeKey: 'POST /webhooks/{source}', functionName: 'Echo', stage: '$default' },
      { routeKey: 'ANY /files/{proxy+}', functionName: 'Echo', stage: '$default' },
      { routeKey: 'GET /slow', functionName: 'Slow', stage: '$default' },
    ]));
    expect(gateway.warnings).toEqual([]);
  });
});

describe('payload format 2.0 events', () => {
  test('path and query parameters, headers, cookies and request context', async () => {
    const report = await echo('GET', '/items/abc%20def?x=1&x=2&y=z%26w', {
      headers: [['X-Multi', 'one'], ['X-Multi', 'two'], ['Cookie', 'a=1; b=2'], ['User-Agent', 'emulation-test']],
    });
    const { event } = report;
    expect(event.routeKey).toBe('ANY /items/{id}');
    expect(event.rawPath).toBe('/items/abc%20def');
    expect(event.rawQueryString).toBe('x=1&x=2&y=z%26w');
    expect(event.pathParameters).toEqual({ id: 'abc def' });
    expect(event.queryStringParameters).toEqual({ x: '1,2', y: 'z&w' });
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBeUndefined();
    const context = event.requestContext;
    expect(context).toMatchObject({ accountId: '000000000000', routeKey: 'ANY /items/{id}', stage: '$default' });
    expect(context.apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(context.http).toEqual({ method: 'GET', path: '/items/abc%20def', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'emulation-test' });
    expect(context.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(context.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect(context.authorizer).toBeUndefined();
    expect(lastRecord('/items/abc%20def').requestId).toBe(context.requestId);
  });

  test('greedy path variables take the rest of the path', async () => {
    const { event } = await echo('DELETE', '/files/a/b/c.txt');
    expect(event.routeKey).toBe('ANY /files/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'a/b/c.txt' });
    expect(event.requestContext.http.method).toBe('DELETE');
  });

  test('binary and form bodies arrive base64-encoded, JSON bodies as text', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const binary = await echo('POST', '/webhooks/github', { headers: [['Content-Type', 'application/octet-stream']], body: bytes });
    expect(binary.event.pathParameters).toEqual({ source: 'github' });
    expect(binary.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.event.body!, 'base64')).toEqual(bytes);

    const form = await echo('POST', '/webhooks/form', { headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'a=1&b=2' });
    expect(form.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(form.event.body!, 'base64').toString()).toBe('a=1&b=2');

    const json = await echo('POST', '/webhooks/stripe', { headers: [['Content-Type', 'application/json; charset=utf-8']], body: '{"id":"evt_1"}' });
    expect(json.event.isBase64Encoded).toBe(false);
    expect(json.event.body).toBe('{"id":"evt_1"}');
  });

  test('a verified bearer JWT reaches the function as requestContext.authorizer.jwt, claims as strings', async () => {
    const token = await issuer.issue({ sub: 'user-123', scope: 'read write' });
    const { event } = await echo('GET', '/private', { headers: [['Authorization', `Bearer ${token}`]] });
    expect(event.requestContext.authorizer?.jwt.claims).toMatchObject({ sub: 'user-123', client_id: LOCAL_CLIENT_ID, aud: 'op-lambda', iss: issuer.url, exp: expect.stringMatching(/^\d+$/) });
    expect(event.requestContext.authorizer?.jwt.scopes).toEqual(['read', 'write']);
  });

  test('an unsigned JWT (alg none) is rejected with 401, whatever its claims', async () => {
    const token = fakeJwt({ sub: 'user-123', iss: issuer.url, aud: 'op-lambda', scope: 'read write', exp: 4102444800 });
    const result = await send('GET', '/private', { headers: [['Authorization', `Bearer ${token}`]] });
    expect(result.status).toBe(401);
    expect(JSON.parse(result.body.toString())).toEqual({ message: 'Unauthorized' });
  });

  test('a route without an authorizer hands over no claims, even with a valid bearer token', async () => {
    const { event } = await echo('GET', '/echo', { headers: [['Authorization', `Bearer ${await issuer.issue()}`]] });
    expect(event.requestContext.authorizer).toBeUndefined();
  });

  test('a JWT route without a bearer token is rejected with 401', async () => {
    const result = await send('GET', '/private');
    expect(result.status).toBe(401);
    expect(JSON.parse(result.body.toString())).toEqual({ message: 'Unauthorized' });
  });
});

describe('response mapping', () => {
  test('status, headers and cookies of a structured response', async () => {
    const result = await send('GET', '/cookies');
    expect(result.status).toBe(201);
    expect(result.headers['content-type']).toBe('text/plain');
    expect(result.headers['x-custom']).toBe('custom-value');
    expect(result.headers['x-count']).toBe('3');
    expect(result.headers['set-cookie']).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark; Max-Age=60']);
    expect(result.headers['apigw-requestid']).toBe(lastRecord('/cookies').requestId);
    expect(result.body.toString()).toBe('created');
  });

  test('a base64-encoded body is decoded to bytes', async () => {
    const result = await send('GET', '/binary');
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('image/png');
    expect([...result.body]).toEqual(BINARY_BYTES);
  });

  test('an object without statusCode becomes a 200 JSON body', async () => {
    const result = await send('GET', '/echo?plain=1');
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/json');
    expect(JSON.parse(result.body.toString())).toMatchObject({ plain: true });
  });

  test('a 503 from the function passes through with its headers', async () => {
    const result = await send('GET', '/echo?status=503');
    expect(result.status).toBe(503);
    expect(result.headers['retry-after']).toBe('7');
    expect(result.headers['x-echo']).toBe('yes');
  });

  test('an unknown route is 404 Not Found', async () => {
    const result = await send('GET', '/no/such/route');
    expect(result.status).toBe(404);
    expect(JSON.parse(result.body.toString())).toEqual({ message: 'Not Found' });
    expect(result.headers['apigw-requestid']).toEqual(expect.any(String));
    expect((await send('POST', '/echo')).status).toBe(404);
  });

  test('a body over 10 MB (API Gateway) or an event over 6 MB (Lambda) is refused with 413', async () => {
    const overGateway = await send('POST', '/webhooks/big', { headers: [['Content-Type', 'application/json']], body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20) });
    expect(overGateway.status).toBe(413);
    expect(JSON.parse(overGateway.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    const overLambda = await send('POST', '/webhooks/big', { headers: [['Content-Type', 'application/json']], body: Buffer.alloc(7 * 1024 * 1024, 0x20) });
    expect(overLambda.status).toBe(413);
    expect(lastRecord('/webhooks/big').gatewayError).toMatch(/invoke payload limit/);
  });
});

describe('Lambda semantics', () => {
  test('cold start, then a warm invoke in the same process', async () => {
    await gateway.killContainers('Echo');
    const before = gateway.stats().Echo!;
    const first = await echo('GET', '/echo');
    const firstInvoke = lastRecord('/echo').invoke!;
    const second = await echo('GET', '/echo');
    const secondInvoke = lastRecord('/echo').invoke!;
    expect(firstInvoke.coldStart).toBe(true);
    expect(firstInvoke.initDurationMs).toBeGreaterThan(0);
    expect(secondInvoke.coldStart).toBe(false);
    expect(secondInvoke.containerId).toBe(firstInvoke.containerId);
    expect(second.pid).toBe(first.pid);
    const after = gateway.stats().Echo!;
    expect(after.coldStarts - before.coldStarts).toBe(1);
    expect(after.invocations - before.invocations).toBe(2);
    expect(after.containers).toBe(1);
    expect(gateway.logs.some((line) => line.stream === 'platform' && line.text.startsWith(`REPORT RequestId: ${firstInvoke.requestId}`) && line.text.includes('Init Duration'))).toBe(true);
  });

  test('concurrent requests run in separate containers', async () => {
    const reports = await Promise.all([1, 2, 3].map(() => echo('GET', '/echo?sleepMs=1500')));
    expect(new Set(reports.map((report) => report.pid)).size).toBeGreaterThan(1);
    expect(gateway.stats().Echo!.containers).toBeGreaterThan(1);
  });

  test('the environment is Lambda-like and not inherited from this process', async () => {
    const { env, functionName, invokedFunctionArn } = await echo('GET', '/echo');
    expect(env).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'Echo',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/Echo',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_EXECUTION_ENV: expect.stringMatching(/^AWS_Lambda_nodejs2\d\.x$/),
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      _HANDLER: 'index.handler',
      TZ: ':UTC',
      NODE_OPTIONS: '--enable-source-maps',
      GREETING: 'hello',
      OVERRIDDEN: 'from-test',
    });
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(env.OP_CONNECT_TOKEN_SECRET_ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:000000000000:secret:ConnectToken/);
    for (const absent of ['OPL_PARENT_ONLY', 'DELETE_ME', 'HOME', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_LAMBDA_MAX_CONCURRENCY', 'JEST_WORKER_ID']) {
      expect(env[absent]).toBeUndefined();
    }
    expect(functionName).toBe('Echo');
    expect(invokedFunctionArn).toBe('arn:aws:lambda:eu-west-1:000000000000:function:Echo');
  });

  test('the deadline header drives context.getRemainingTimeInMillis()', async () => {
    const { remainingMs } = await echo('GET', '/echo');
    expect(remainingMs).toBeLessThanOrEqual(5000);
    expect(remainingMs).toBeGreaterThan(3000);
  });

  test('a timeout answers 500, kills the process, and the next invoke is cold', async () => {
    const warm = await send('GET', '/slow?ms=0');
    expect(warm.status).toBe(200);
    const warmPid = (JSON.parse(warm.body.toString()) as { pid: number }).pid;
    seenPids.add(warmPid);

    const timedOut = await send('GET', '/slow');
    expect(timedOut.status).toBe(500);
    expect(JSON.parse(timedOut.body.toString())).toEqual({ message: 'Internal Server Error' });
    const record = lastRecord('/slow');
    expect(record.invoke?.outcome).toBe('timeout');
    expect(record.invoke?.pid).toBe(warmPid);
    expect(record.invoke?.error).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 2.00 seconds') });
    expect(isAlive(warmPid)).toBe(false);
    expect(gateway.stats().Slow).toMatchObject({ timeouts: 1, containers: 0 });

    const next = await send('GET', '/slow?ms=0');
    expect(next.status).toBe(200);
    expect(lastRecord('/slow').invoke?.coldStart).toBe(true);
    expect((JSON.parse(next.body.toString()) as { pid: number }).pid).not.toBe(warmPid);
  });

  test('a handler error answers 500 without details and is recorded as Lambda reports it', async () => {
    const result = await send('GET', '/throws');
    expect(result.status).toBe(500);
    expect(result.body.toString()).toBe('{"message":"Internal Server Error"}');
    const invoke = lastRecord('/throws').invoke!;
    expect(invoke.outcome).toBe('error');
    expect(invoke.error).toMatchObject({ errorType: 'RangeError', errorMessage: 'kaboom: internal detail' });
    expect(invoke.error?.trace?.[0]).toBe('RangeError: kaboom: internal detail');
    // The container survives a handler error.
    expect(gateway.stats().Throws!.containers).toBe(1);
  });

  test('an INIT error answers 500, is reported, and the container is discarded', async () => {
    const result = await send('GET', '/init-error');
    expect(result.status).toBe(500);
    const invoke = lastRecord('/init-error').invoke!;
    expect(invoke.outcome).toBe('init-error');
    expect(invoke.coldStart).toBe(true);
    expect(invoke.error).toMatchObject({ errorType: 'Error', errorMessage: 'init failed on purpose' });
    expect(gateway.stats().InitError).toMatchObject({ containers: 0, errors: 1 });
    expect(isAlive(invoke.pid!)).toBe(false);
  });

  test('direct invoke passes any event', async () => {
    const result = await gateway.invoke('Slow', { queryStringParameters: { ms: '1' } });
    expect(result.outcome).toBe('success');
    expect(result.payload).toMatchObject({ waitedMs: 1 });
    if (result.pid) seenPids.add(result.pid);
    await expect(gateway.invoke('NoSuchFunction', {})).rejects.toThrow(/no function named NoSuchFunction/);
  });

  test('function output is captured line by line', () => {
    const lines = gateway.logs.filter((line) => line.functionName === 'Echo' && line.stream === 'stdout');
    const parsed = lines.map((line) => JSON.parse(line.text) as { level?: string; message?: string });
    expect(parsed.some((entry) => entry.level === 'INFO' && entry.message?.startsWith('echo invoked'))).toBe(true);
  });

  test('close() leaves no child process behind', async () => {
    const pids = [...seenPids, ...gateway.requests.flatMap((record) => (record.invoke?.pid ? [record.invoke.pid] : []))];
    expect(pids.length).toBeGreaterThan(3);
    expect(pids.some(isAlive)).toBe(true);
    await gateway.close();
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
