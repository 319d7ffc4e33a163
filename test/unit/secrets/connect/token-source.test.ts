import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ConnectError } from '../../../../shared/secrets/errors';
import { connectTokenSource } from '../../../../shared/secrets/connect/token-source';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-AbCdEf';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.canary-connect-token.signature';
const sm = mockClient(SecretsManagerClient);

function fromSecretsManager(): ReturnType<typeof connectTokenSource> {
  return connectTokenSource({ env: { OP_CONNECT_TOKEN_SECRET_ARN: ARN }, secretsManager: () => new SecretsManagerClient({ region: 'eu-west-1' }) });
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

beforeEach(() => sm.reset());

describe('connectTokenSource', () => {
  it('uses OP_CONNECT_TOKEN as is, without touching Secrets Manager', async () => {
    const createClient = jest.fn(() => new SecretsManagerClient({}));
    const source = connectTokenSource({ env: { OP_CONNECT_TOKEN: TOKEN, OP_CONNECT_TOKEN_SECRET_ARN: ARN }, secretsManager: createClient });
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(createClient).not.toHaveBeenCalled();
    expect(sm.calls()).toHaveLength(0);
  });

  it('reads a bare token from the secret once per container, sharing one call between concurrent readers', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: `${TOKEN}\n` });
    const source = fromSecretsManager();
    await expect(Promise.all([source.get(), source.get(), source.get()])).resolves.toEqual([TOKEN, TOKEN, TOKEN]);
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads a token from JSON {"token": ...} and from a binary secret', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ token: TOKEN, note: 'x' }) })
      .resolvesOnce({ SecretBinary: new TextEncoder().encode(TOKEN) });
    await expect(fromSecretsManager().get()).resolves.toBe(TOKEN);
    await expect(fromSecretsManager().get()).resolves.toBe(TOKEN);
  });

  it('fails with TOKEN_UNAVAILABLE when Secrets Manager fails, and tries again on the next read', async () => {
    const denied = Object.assign(new Error(`User is not authorized to perform GetSecretValue on ${ARN}`), { name: 'AccessDeniedException' });
    sm.on(GetSecretValueCommand).rejectsOnce(denied).resolves({ SecretString: TOKEN });
    const source = fromSecretsManager();
    const error = await failure(source.get());
    expect(error.code).toBe('TOKEN_UNAVAILABLE');
    expect(error.message).toContain('AccessDeniedException');
    await expect(source.get()).resolves.toBe(TOKEN);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED', $metadata: { attempts: 3 } })],
    ['a reset socket, wrapped', Object.assign(new Error('socket hang up'), { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) })],
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['an internal service error', Object.assign(new Error('internal'), { name: 'InternalServiceError', $fault: 'server', $metadata: { httpStatusCode: 500 } })],
    ['an unnamed 503', Object.assign(new Error('unavailable'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } })],
    ['our timeout aborting the call', Object.assign(new Error('Request aborted'), { name: 'AbortError' })],
    ['a socket timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('treats %s as a retryable outage', async (_label, rejection) => {
    sm.on(GetSecretValueCommand).rejects(rejection);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true });
  });

  it.each([
    ['a missing secret', Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['access denied', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['a KMS decryption failure', Object.assign(new Error('cannot decrypt'), { name: 'DecryptionFailure', $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['something unknown', 'a string'],
  ])('treats %s as permanent', async (_label, rejection) => {
    sm.on(GetSecretValueCommand).rejects(rejection);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
  });

  it('never quotes the secret when it is malformed', async () => {
    const malformed = `{"token": ${TOKEN}`;
    sm.on(GetSecretValueCommand).resolves({ SecretString: malformed });
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
    expect(error.cause).toBeUndefined();
    expect(`${error.message} ${error.stack}`).not.toContain('canary-connect-token');
  });

  it.each([
    ['an empty secret', { SecretString: '  ' }],
    ['JSON without a token', { SecretString: '{"password":"canary-connect-token"}' }],
    ['no secret string at all', {}],
  ])('rejects %s', async (_label, output) => {
    sm.on(GetSecretValueCommand).resolves(output);
    const error = await failure(fromSecretsManager().get());
    expect(error).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: false });
    expect(error.message).not.toContain('canary-connect-token');
  });

  it('reads the secret again after invalidate()', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'old-token' }).resolves({ SecretString: TOKEN });
    const source = fromSecretsManager();
    await expect(source.get()).resolves.toBe('old-token');
    source.invalidate();
    await expect(source.get()).resolves.toBe(TOKEN);
  });

  it('creates the Secrets Manager client lazily, once', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: TOKEN });
    const createClient = jest.fn(() => new SecretsManagerClient({ region: 'eu-west-1' }));
    const source = connectTokenSource({ env: { OP_CONNECT_TOKEN_SECRET_ARN: ARN }, secretsManager: createClient });
    expect(createClient).not.toHaveBeenCalled();
    await source.get();
    source.invalidate();
    await source.get();
    expect(createClient).toHaveBeenCalledTimes(1);
  });

  it('refuses an environment that names no token', () => {
    expect(() => connectTokenSource({ env: {} })).toThrow(expect.objectContaining({ code: 'TOKEN_UNAVAILABLE' }));
  });
});
