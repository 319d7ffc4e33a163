import { inspect } from 'node:util';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { Context } from 'aws-lambda';
import { ConnectError, InvalidReferenceError, SecretDeclarationError, SecretsUnavailableError } from '../../../shared/secrets/errors';
import { opSecrets, type OpSecretsOptions, type SecretsContext } from '../../../shared/secrets/middleware';
import type { SecretDeclarations } from '../../../shared/secrets/store/declarations';
import { AuditRecorder, FakeSource, httpApiEvent, lambdaContext, restApiEvent } from '../../helpers/middleware-fakes';

const STRIPE = 'op://payments/stripe/credential';
const GITHUB = 'op://payments/github/secret';
const PREVIOUS = 'op://payments/stripe/previous';

let source: FakeSource;
let audit: AuditRecorder;

beforeEach(() => {
  source = new FakeSource().set(STRIPE, 'sk_live_canary_stripe').set(GITHUB, 'ghs_canary_github').set(PREVIOUS, 'sk_live_canary_previous');
  audit = new AuditRecorder();
});

function secretsFor<const S extends SecretDeclarations>(options: OpSecretsOptions<S>) {
  return opSecrets<S>({ env: {}, source, ...audit.options, ...options });
}

type Handler = (event: unknown, context: SecretsContext) => Promise<unknown>;

function handlerWith(middleware: ReturnType<typeof opSecrets>, body: Handler = async () => ({ statusCode: 200 })) {
  return middy<unknown, unknown, Error, SecretsContext>().use(middleware).handler(body);
}

const invoke = (handler: ReturnType<typeof handlerWith>, event: unknown = httpApiEvent(), context: Context = lambdaContext()) =>
  handler(event, context as SecretsContext);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('declarations', () => {
  it('merges code and environment; the environment reference wins', async () => {
    const seen: Record<string, string | undefined> = {};
    const middleware = secretsFor({
      env: { GITHUB_SECRET: GITHUB, STRIPE_KEY: PREVIOUS, PLAIN: 'not-a-reference' },
      secrets: { STRIPE_KEY: STRIPE },
    });
    await invoke(
      handlerWith(middleware, async (_event, context) => {
        Object.assign(seen, { stripe: context.secrets['STRIPE_KEY'], github: context.secrets['GITHUB_SECRET'], plain: context.secrets['PLAIN'] });
      }),
    );
    expect(seen).toEqual({ stripe: 'sk_live_canary_previous', github: 'ghs_canary_github', plain: undefined });
    expect(Object.keys(middleware.status()).sort()).toEqual(['GITHUB_SECRET', 'STRIPE_KEY']);
  });

  it('ignores the environment when fromEnv is false', () => {
    const middleware = secretsFor({ env: { GITHUB_SECRET: GITHUB }, fromEnv: false, secrets: { STRIPE_KEY: STRIPE } });
    expect(Object.keys(middleware.status())).toEqual(['STRIPE_KEY']);
  });

  it('reads an omitted reference from the environment, and drops an optional secret with none', async () => {
    const middleware = secretsFor({
      env: { WEBHOOK_SECRET: GITHUB },
      secrets: { WEBHOOK_SECRET: {}, WEBHOOK_PREVIOUS: { required: false } },
    });
    const handler = handlerWith(middleware, async (_event, context) => [context.secrets['WEBHOOK_SECRET'], context.secrets['WEBHOOK_PREVIOUS']]);
    await expect(invoke(handler)).resolves.toEqual(['ghs_canary_github', undefined]);
    expect(Object.keys(middleware.status())).toEqual(['WEBHOOK_SECRET']);
  });

  it('fails at INIT with the variable named when a reference is invalid', () => {
    const fromEnv = (): unknown => secretsFor({ env: { DATABASE_URL: 'op://db//url' } });
    expect(fromEnv).toThrow(InvalidReferenceError);
    expect(fromEnv).toThrow(/^DATABASE_URL: Invalid 1Password secret reference "op:\/\/db\/\/url"/);
    expect(() => secretsFor({ secrets: { STRIPE_KEY: 'op://payments/stripe' } })).toThrow(/^STRIPE_KEY: /);
  });

  it('fails at INIT when a required secret has no reference, without quoting the variable', () => {
    const init = (): unknown => secretsFor({ env: { STRIPE_KEY: 'sk_live_canary_plain' }, secrets: { STRIPE_KEY: { required: true } } });
    expect(init).toThrow(SecretDeclarationError);
    expect(init).toThrow(/STRIPE_KEY/);
    expect(init).not.toThrow(/canary/);
  });

  it('fails at INIT on a misspelt option or a nonsensical duration', () => {
    expect(() => secretsFor({ secrets: { STRIPE_KEY: STRIPE }, ttl: 5000 } as never)).toThrow('opSecrets: unknown option(s) "ttl"');
    expect(() => secretsFor({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => secretsFor({ reserveMs: -1 })).toThrow(/reserveMs/);
    expect(() => secretsFor({ ttlMs: -5 })).toThrow(/ttlMs/);
  });

  it('rejects names that cannot be properties', () => {
    expect(() => secretsFor({ secrets: { 'my-key': STRIPE } })).toThrow(SecretDeclarationError);
    expect(() => secretsFor({ secrets: { constructor: STRIPE } })).toThrow(/reserved/);
  });
});

describe('fetching', () => {
  it('starts fetching when declared (INIT), without waiting for an invocation', () => {
    secretsFor({ secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB } });
    expect(source.calls).toEqual([[expect.stringContaining('stripe'), expect.stringContaining('github')]]);
  });

  it('with disablePrefetch, fetches on the first invocation', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE }, disablePrefetch: true });
    expect(source.requestCount).toBe(0);
    await invoke(handlerWith(middleware));
    expect(source.requestCount).toBe(1);
  });

  it('fetches a reference shared by two names once', async () => {
    const middleware = secretsFor({ secrets: { A: STRIPE, B: 'op://Payments/Stripe/credential' } });
    const handler = handlerWith(middleware, async (_event, context) => [context.secrets['A'], context.secrets['B']]);
    await expect(invoke(handler)).resolves.toEqual(['sk_live_canary_stripe', 'sk_live_canary_stripe']);
    expect(source.calls).toHaveLength(1);
    expect(source.calls[0]).toHaveLength(1);
  });

  it('serves 1,000 warm invocations without asking the resolver again', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB } });
    const handler = handlerWith(middleware, async (_event, context) => context.secrets['STRIPE_KEY']);
    for (let index = 0; index < 1000; index++) await expect(invoke(handler)).resolves.toBe('sk_live_canary_stripe');
    expect(source.requestCount).toBe(1);
  });

  it('puts values on context.secrets and request.internal, and leaves process.env alone by default', async () => {
    const middleware = secretsFor({ secrets: { OP_TEST_STRIPE_KEY: STRIPE } });
    const internals: unknown[] = [];
    const handler = handlerWith(middleware).before((request) => {
      internals.push({ ...request.internal });
    });
    await invoke(handler);
    await invoke(handler);
    expect(internals).toEqual([{ OP_TEST_STRIPE_KEY: 'sk_live_canary_stripe' }, { OP_TEST_STRIPE_KEY: 'sk_live_canary_stripe' }]);
    expect(process.env['OP_TEST_STRIPE_KEY']).toBeUndefined();
  });

  it('copies values into process.env with setToEnv', async () => {
    const middleware = secretsFor({ secrets: { OP_TEST_ENV_KEY: STRIPE }, setToEnv: true });
    try {
      await invoke(handlerWith(middleware));
      expect(process.env['OP_TEST_ENV_KEY']).toBe('sk_live_canary_stripe');
    } finally {
      delete process.env['OP_TEST_ENV_KEY'];
    }
  });

  it('refreshes ahead past ttlMs while serving the cached value', async () => {
    let now = Date.now();
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE }, ttlMs: 60_000, clock: () => now });
    const handler = handlerWith(middleware, async (_event, context) => context.secrets['STRIPE_KEY']);
    await invoke(handler);
    source.set(STRIPE, 'sk_live_canary_rotated');
    now += 61_000;
    await expect(invoke(handler)).resolves.toBe('sk_live_canary_stripe');
    expect(source.requestCount).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(invoke(handler)).resolves.toBe('sk_live_canary_rotated');
    expect(source.requestCount).toBe(2);
    expect(audit.events('secret.refresh')).toEqual([
      expect.objectContaining({ names: ['STRIPE_KEY'], reference: STRIPE, previousItemVersion: 1, itemVersion: 2, changed: true }),
    ]);
  });

  it('keeps two instances apart, even for the same reference', async () => {
    const first = secretsFor({ secrets: { KEY: STRIPE } });
    const other = new FakeSource().set(STRIPE, 'sk_live_canary_other');
    const second = opSecrets({ env: {}, source: other, ...audit.options, secrets: { KEY: STRIPE } });
    const read: Handler = async (_event, context) => context.secrets['KEY'];
    await expect(invoke(handlerWith(first, read))).resolves.toBe('sk_live_canary_stripe');
    await expect(invoke(handlerWith(second, read))).resolves.toBe('sk_live_canary_other');
    first.clearCache();
    expect(second.status()['KEY']?.ready).toBe(true);
  });
});

describe('failures', () => {
  it('rethrows SecretsUnavailableError for events that are not API Gateway', async () => {
    source.fail(STRIPE, new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 }));
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }));
    const error = await rejection(invoke(handler, { Records: [] }));
    expect(error).toBeInstanceOf(SecretsUnavailableError);
    expect(error).toMatchObject({ names: ['STRIPE_KEY'], retryAfterSeconds: 1, statusCode: 503 });
  });

  it.each([
    ['HTTP API v2', httpApiEvent()],
    ['REST API v1', restApiEvent()],
  ])('answers a %s event with a 503 problem and Retry-After', async (_label, event) => {
    source.fail(STRIPE, new ConnectError('RATE_LIMITED', 'too many requests', { status: 429, retryAfterMs: 7000 }));
    const handlerBody = jest.fn(async () => ({ statusCode: 200 }));
    const response = (await invoke(handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }), handlerBody), event)) as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
    };
    expect(handlerBody).not.toHaveBeenCalled();
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '7', 'Content-Type': 'application/problem+json' });
    expect(JSON.parse(response.body)).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: expect.any(String) });
    expect(response.body).not.toMatch(/payments|stripe|canary|127\.0\.0\.1|connect/i);
  });

  it('answers with an undefined optional secret instead of failing', async () => {
    source.fail(PREVIOUS, new ConnectError('NOT_FOUND', 'no such field', { status: 404 }));
    const middleware = secretsFor({ secrets: { CURRENT: STRIPE, PREVIOUS: { reference: PREVIOUS, required: false } } });
    const handler = handlerWith(middleware, async (_event, context) => [context.secrets['CURRENT'], context.secrets['PREVIOUS']]);
    await expect(invoke(handler)).resolves.toEqual(['sk_live_canary_stripe', undefined]);
    expect(middleware.status()['PREVIOUS']).toEqual({ ready: false });
  });

  it('does not storm the resolver with a permanent failure: N invocations, bounded requests', async () => {
    source.fail(STRIPE, new ConnectError('UNAUTHORIZED', 'invalid token', { status: 401 }));
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }));
    for (let index = 0; index < 50; index++) {
      const response = (await invoke(handler)) as { statusCode: number };
      expect(response.statusCode).toBe(503);
    }
    expect(source.requestCount).toBe(1);
    expect(audit.events('secret.failure')).toEqual([expect.objectContaining({ names: ['STRIPE_KEY'], code: 'UNAUTHORIZED', status: 401, retryable: false })]);
  });

  it('holds a transient failure: 503 at once with the Retry-After left, no resolver request, until the hold ends', async () => {
    let now = Date.now();
    source.fail(STRIPE, new ConnectError('NETWORK', 'connection refused'));
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE }, failureBackoffMs: 2000, clock: () => now }));
    expect(await invoke(handler)).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '2' } });
    now += 900;
    expect(await invoke(handler)).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '2' } }); // 1.1 s left
    now += 200;
    expect(await invoke(handler)).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '1' } });
    expect(source.requestCount).toBe(1);
    now += 900;
    expect(await invoke(handler)).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '4' } }); // asked again, doubled
    expect(source.requestCount).toBe(2);
  });

  it('recovers without a restart once the Retry-After it advertised has passed', async () => {
    let now = Date.now();
    source.fail(STRIPE, new ConnectError('NETWORK', 'connection refused'));
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE }, clock: () => now }), async (_event, context) => ({
      statusCode: 200,
      body: context.secrets['STRIPE_KEY'],
    }));
    expect(await invoke(handler)).toMatchObject({ statusCode: 503, headers: { 'Retry-After': '1' } });
    source.set(STRIPE, 'sk_live_canary_stripe');
    now += 1000;
    expect(await invoke(handler)).toMatchObject({ statusCode: 200, body: 'sk_live_canary_stripe' });
  });

  it('never waits past the invocation deadline for a resolver that hangs', async () => {
    source.gate = new Promise<void>(() => undefined);
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE }, reserveMs: 200 }));
    const started = Date.now();
    const response = (await invoke(handler, httpApiEvent(), lambdaContext(400))) as { statusCode: number };
    expect(response.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it.each([
    ['before', 'http-error-handler first in use()'],
    ['after', 'http-error-handler last in use()'],
  ])('composes with @middy/http-error-handler used %s opSecrets (%s)', async (order) => {
    source.fail(STRIPE, new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 }));
    const secrets = secretsFor({ secrets: { STRIPE_KEY: STRIPE } });
    const errors = httpErrorHandler({ logger: false });
    const handler = middy()
      .use(order === 'before' ? [errors, secrets] : [secrets, errors])
      .handler(async () => ({ statusCode: 200 }));
    const response = (await handler(httpApiEvent(), lambdaContext() as Parameters<typeof handler>[1])) as { statusCode: number; headers: Record<string, string>; body: string };
    expect(response.statusCode).toBe(503);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.headers['Retry-After']).toBe('1');
    expect(JSON.parse(response.body)).toMatchObject({ status: 503, title: 'Service Unavailable' });
  });

  it('leaves other errors to other middlewares', async () => {
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }), async () => {
      throw new Error('handler bug');
    });
    await expect(invoke(handler)).rejects.toThrow('handler bug');
  });
});

describe('refresh, status, clearCache', () => {
  it('refresh(name) fetches the rotated value, which later invocations see', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE } });
    const handler = handlerWith(middleware, async (_event, context) => context.secrets['STRIPE_KEY']);
    await invoke(handler);
    source.set(STRIPE, 'sk_live_canary_rotated');
    await expect(middleware.refresh('STRIPE_KEY')).resolves.toBe('sk_live_canary_rotated');
    await expect(invoke(handler)).resolves.toBe('sk_live_canary_rotated');
    expect(middleware.status()['STRIPE_KEY']).toMatchObject({ ready: true, itemVersion: 2 });
  });

  it('refresh() of an unknown name rejects; a failed refresh rejects with SecretsUnavailableError', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE } });
    await expect(middleware.refresh('NOPE')).rejects.toThrow(SecretDeclarationError);
    source.fail(STRIPE, new ConnectError('SERVER', 'bad gateway', { status: 502 }));
    await expect(middleware.refresh('STRIPE_KEY')).rejects.toMatchObject({ name: 'SecretsUnavailableError', names: ['STRIPE_KEY'] });
  });

  it('refresh(names) answers by name in one resolve; only required failures reject', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: { reference: GITHUB, required: false }, PREVIOUS_KEY: PREVIOUS } });
    await invoke(handlerWith(middleware));
    source.calls.length = 0;
    source.fail(GITHUB, new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 }));
    const refreshed = await middleware.refresh(['STRIPE_KEY', 'GITHUB_SECRET']);
    const typed: { readonly STRIPE_KEY: string; readonly GITHUB_SECRET: string | undefined } = refreshed;
    expect(typed).toEqual({ STRIPE_KEY: 'sk_live_canary_stripe', GITHUB_SECRET: undefined });
    expect(source.calls).toHaveLength(1);
    await expect(middleware.refresh([])).resolves.toEqual({});
    expect(source.calls).toHaveLength(1);

    source.fail(STRIPE, new ConnectError('SERVER', 'bad gateway', { status: 502 }));
    const error = await rejection(middleware.refresh(['STRIPE_KEY', 'GITHUB_SECRET', 'PREVIOUS_KEY']));
    expect(error).toMatchObject({ name: 'SecretsUnavailableError', names: ['STRIPE_KEY'] });
    await expect(middleware.refresh(['STRIPE_KEY', 'NOPE'])).rejects.toThrow(SecretDeclarationError);
  });

  it('a handler whose refresh() fails answers 503', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE } });
    const handler = handlerWith(middleware, async () => middleware.refresh('STRIPE_KEY'));
    await invoke(handler);
    source.fail(STRIPE, new ConnectError('SERVER', 'bad gateway', { status: 502 }));
    expect(await invoke(handler)).toMatchObject({ statusCode: 503 });
  });

  it('status() reports readiness, version and age, never a value', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB }, disablePrefetch: true });
    expect(middleware.status()).toEqual({ STRIPE_KEY: { ready: false }, GITHUB_SECRET: { ready: false } });
    await invoke(handlerWith(middleware));
    const status = middleware.status();
    expect(status['STRIPE_KEY']).toEqual({ ready: true, itemVersion: 1, ageMs: expect.any(Number) });
    expect(JSON.stringify(status)).not.toContain('canary');
  });

  it('clearCache() makes the next invocation fetch again', async () => {
    const middleware = secretsFor({ secrets: { STRIPE_KEY: STRIPE } });
    const handler = handlerWith(middleware);
    await invoke(handler);
    middleware.clearCache();
    expect(source.forgotten).toBe(1);
    await invoke(handler);
    expect(source.requestCount).toBe(2);
  });
});

describe('context.secrets', () => {
  it('prints and serialises without values', async () => {
    let printed = '';
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }), async (_event, context) => {
      printed = `${JSON.stringify(context.secrets)} ${inspect(context.secrets)} ${inspect(context, { depth: 5 })}`;
    });
    await invoke(handler);
    expect(printed).toContain('STRIPE_KEY');
    expect(printed).not.toContain('canary');
  });

  it('supports destructuring and is read-only', async () => {
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }), async (_event, context) => {
      const { STRIPE_KEY } = context.secrets;
      expect(() => {
        (context.secrets as Record<string, string>)['STRIPE_KEY'] = 'x';
      }).toThrow(TypeError);
      return STRIPE_KEY;
    });
    await expect(invoke(handler)).resolves.toBe('sk_live_canary_stripe');
  });
});

describe('secret.access', () => {
  it('records the names read, who read them, the route and the request id; once per invocation', async () => {
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE, GITHUB_SECRET: GITHUB } }), async (_event, context) => {
      return `${context.secrets['GITHUB_SECRET']}${context.secrets['GITHUB_SECRET']}`;
    });
    await invoke(handler, httpApiEvent({ sub: 'user-42', client_id: 'app-7' }), lambdaContext(10_000, 'req-first'));
    await invoke(handler, restApiEvent({ userArn: 'arn:aws:iam::123456789012:user/ops' }), lambdaContext(10_000, 'req-second'));
    expect(audit.accesses).toEqual([
      expect.objectContaining({
        event: 'secret.access',
        message: 'secret.access',
        level: 'INFO',
        service: 'payments',
        names: ['GITHUB_SECRET'],
        principal: { type: 'jwt', sub: 'user-42', clientId: 'app-7', sourceIp: '203.0.113.7' },
        route: 'POST /payments',
        awsRequestId: 'req-first',
        coldStart: true,
        SecretCacheHit: 0, // the cold start waited for the prefetch
      }),
      expect.objectContaining({
        names: ['GITHUB_SECRET'],
        principal: expect.objectContaining({ type: 'iam', arn: 'arn:aws:iam::123456789012:user/ops' }),
        route: 'GET /payments/{id}',
        awsRequestId: 'req-second',
        coldStart: false,
        SecretCacheHit: 1,
      }),
    ]);
    expect(audit.lines.every((line) => line.endsWith('}\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
  });

  it('writes nothing when the handler reads no secret', async () => {
    await invoke(handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } })));
    expect(audit.lines).toEqual([]);
  });

  it('is still written, once, when the handler fails after reading', async () => {
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }), async (_event, context) => {
      throw new Error(`failed with a key of length ${context.secrets['STRIPE_KEY']?.length}`);
    });
    await expect(invoke(handler)).rejects.toThrow('failed');
    expect(audit.accesses).toEqual([expect.objectContaining({ names: ['STRIPE_KEY'] })]);
  });

  it('emits EMF for SecretCacheHit in the same line', async () => {
    const handler = handlerWith(secretsFor({ secrets: { STRIPE_KEY: STRIPE } }), async (_event, context) => context.secrets['STRIPE_KEY']);
    await invoke(handler);
    expect(audit.accesses[0]?.['_aws']).toEqual({
      Timestamp: expect.any(Number),
      CloudWatchMetrics: [{ Namespace: 'OpLambda', Dimensions: [['service']], Metrics: [{ Name: 'SecretCacheHit', Unit: 'Count' }] }],
    });
  });

  it('supports more than 31 names', async () => {
    const secrets = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`KEY_${index}`, STRIPE]));
    const handler = handlerWith(secretsFor({ secrets }), async (_event, context) => `${context.secrets['KEY_2']}${context.secrets['KEY_35']}`);
    await invoke(handler);
    expect(audit.accesses[0]).toMatchObject({ names: ['KEY_2', 'KEY_35'] });
  });
});
