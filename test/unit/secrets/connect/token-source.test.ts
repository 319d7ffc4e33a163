import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../../../local/secrets-manager/server';
import { ConnectError } from '../../../../shared/secrets/errors';
import { connectTokenSource } from '../../../../shared/secrets/connect/token-source';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-AbCdEf';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.canary-connect-token.signature';
const CREDENTIALS = { accessKeyId: 'AKIDOPLAMBDATEST', secretAccessKey: 'opl-test-secret-access-key-0123456789', sessionToken: 'opl-test-session-token' };

let standIn: SecretsManagerStandIn;

function environment(url = standIn.url): Record<string, string> {
  return {
    OP_CONNECT_TOKEN_SECRET_ARN: ARN,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
  };
}

function fromSecretsManager(timeoutMs?: number): ReturnType<typeof connectTokenSource> {
  return connectTokenSource({ env: environment(), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

beforeEach(async () => {
  standIn = await startSecretsManagerStandIn({ credentials: CREDENTIALS });
});
afterEach(() => standIn.close());

describe('connectTokenSource', () => {
  it('uses OP_CONNECT_TOKEN as is, without touching Secrets Manager', async () => {
    const source = connectTokenSource({ env: { ...environment(), OP_CONNECT_TOKEN: TOKEN } });
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(standIn.calls).toHaveLength(0);
  });

  it('reads a bare token from the secret once per container, sharing one call between concurrent readers', async () => {
    standIn.setSecret(ARN, `${TOKEN}\n`);
    const source = fromSecretsManager();
    await expect(Promise.all([source.get(), source.get(), source.get()])).resolves.toEqual([TOKEN, TOKEN, TOKEN]);
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(standIn.calls).toEqual([expect.objectContaining({ secretId: ARN, signatureValid: true })]);
  });

  it('reads a token from JSON {"token": ...} and from a binary secret', async () => {
    standIn.setSecret(ARN, JSON.stringify({ token: TOKEN, note: 'x' }));
    await expect(fromSecretsManager().get()).resolves.toBe(TOKEN);
    standIn.setSecret(ARN, new TextEncoder().encode(TOKEN));
    await expect(fromSecretsManager().get()).resolves.toBe(TOKEN);
  });

  it('fails with TOKEN_UNAVAILABLE when Secrets Manager fails, and tries again on the next read', async () => {
    standIn.setFault({ status: 400, type: 'AccessDeniedException', message: `User is not authorized to perform GetSecretValue on ${ARN}` });
    const source = fromSecretsManager();
    const error = await failure(source.get());
    expect(error.code).toBe('TOKEN_UNAVAILABLE');
    expect(error.message).toContain('AccessDeniedException');
    standIn.setFault(undefined);
    standIn.setSecret(ARN, TOKEN);
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(standIn.calls).toHaveLength(2);
  });

  it.each([
    ['throttling', { status: 400, type: 'ThrottlingException' }],
    ['an internal service error', { status: 500, type: 'InternalServiceError' }],
    ['an unnamed 503', { status: 503, type: '' }],
    ['a reset connection', 'reset'],
  ] as const)('treats %s as a retryable outage', async (_label, fault) => {
    standIn.setFault(fault);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true });
  });

  it('treats a refused connection as a retryable outage', async () => {
    await standIn.close();
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true });
  });

  it('treats its own timeout as a retryable outage', async () => {
    standIn.setSecret(ARN, TOKEN);
    standIn.setLatency(2_000);
    const error = await failure(fromSecretsManager(50).get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true });
  });

  it.each([
    ['a missing secret', undefined],
    ['access denied', { status: 400, type: 'AccessDeniedException' }],
    ['a KMS decryption failure', { status: 400, type: 'DecryptionFailure' }],
    ['a refused signature', { status: 400, type: 'InvalidSignatureException' }],
  ] as const)('treats %s as permanent', async (_label, fault) => {
    standIn.setFault(fault);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
  });

  it('treats missing credentials as permanent', async () => {
    const { AWS_ACCESS_KEY_ID: _dropped, ...env } = environment();
    const error = await failure(connectTokenSource({ env }).get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
  });

  it('never quotes the secret when it is malformed', async () => {
    standIn.setSecret(ARN, `{"token": ${TOKEN}`);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
    expect(error.cause).toBeUndefined();
    expect(`${error.message} ${error.stack}`).not.toContain('canary-connect-token');
  });

  it.each([
    ['an empty secret', '  '],
    ['JSON without a token', '{"password":"canary-connect-token"}'],
    ['no secret string at all', new Uint8Array()],
  ])('rejects %s', async (_label, value) => {
    standIn.setSecret(ARN, value);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
    expect(error.message).not.toContain('canary-connect-token');
  });

  it('reads the secret again after invalidate()', async () => {
    standIn.setSecret(ARN, 'old-token');
    const source = fromSecretsManager();
    await expect(source.get()).resolves.toBe('old-token');
    standIn.setSecret(ARN, TOKEN);
    source.invalidate();
    await expect(source.get()).resolves.toBe(TOKEN);
  });

  it('reads through the reader it is given, with its secret id and a timeout signal', async () => {
    const readSecret = jest.fn((_secretId: string, _signal: AbortSignal) => Promise.resolve(TOKEN));
    const source = connectTokenSource({ env: { OP_CONNECT_TOKEN_SECRET_ARN: ARN }, readSecret });
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(readSecret).toHaveBeenCalledWith(ARN, expect.any(AbortSignal));
    expect(standIn.calls).toHaveLength(0);
  });

  it('refuses an environment that names no token', () => {
    expect(() => connectTokenSource({ env: {} })).toThrow(expect.objectContaining({ code: 'TOKEN_UNAVAILABLE' }));
  });
});
